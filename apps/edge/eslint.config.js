import base from '@ganstudio/eslint-config/base';

// `deno lint` checks this app as Deno code; ESLint adds the repository's own rules (settings are
// read only in main.ts, the entry that owns Deno.env).
export default [
  ...base,
  { languageOptions: { globals: { Deno: 'readonly' } } },
  { files: ['main.ts'], rules: { 'no-restricted-properties': 'off' } },
];
