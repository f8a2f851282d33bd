import globals from 'globals';

import { typeChecked } from '@ganstudio/eslint-config/type-checked';

export default [
  ...typeChecked(import.meta.dirname),
  { languageOptions: { globals: { ...globals.node } } },
];
