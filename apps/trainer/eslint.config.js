import globals from 'globals';

import { typeChecked, untypedDataRules } from '@ganstudio/eslint-config/type-checked';

export default [
  ...typeChecked(import.meta.dirname),
  { languageOptions: { globals: { ...globals.node } } },
  // The suites run the CLI as a user does and read what it wrote (JSON.parse of config.json,
  // metrics.jsonl, --json output: `any`); their expect() calls are the type check of those files.
  {
    files: ['**/*.test.ts'],
    rules: untypedDataRules,
  },
  // wasm-thread-worker.cjs is a CommonJS worker entry: require() is how it loads.
  { files: ['**/*.cjs'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
  // The CLI's own knobs (GANSTUDIO_CWD, GANSTUDIO_CACHE, DEBUG, …) are not gallery settings; only
  // `upload`, which writes to a gallery, reads the gallery's through gallerySettings.
  { ignores: ['src/commands/upload.ts'], rules: { 'no-restricted-properties': 'off' } },
];
