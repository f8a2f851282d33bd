import globals from 'globals';
import node from '@ganstudio/eslint-config/node';

export default [
  ...node,
  { ignores: ['.next/**', 'next-env.d.ts', 'public/**'] },
  // Client components and the e2e page callbacks run in the browser.
  {
    files: ['src/components/**', 'tests/e2e/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
];
