import globals from 'globals';

import { typeChecked, untypedDataRules } from '@ganstudio/eslint-config/type-checked';

export default [
  ...typeChecked(import.meta.dirname),
  { ignores: ['.next/**', 'next-env.d.ts', 'public/**'] },
  { languageOptions: { globals: { ...globals.node } } },
  // Links go through ~/components/link (no prefetch of per-request pages).
  {
    files: ['src/**'],
    ignores: ['src/components/link.tsx'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'next/link', message: 'use { Link } from ~/components/link' }] },
      ],
    },
  },
  // The browser and instance suites read the API's JSON and values from pages; they set up their
  // own world (ports, a test database).
  {
    files: ['tests/**'],
    rules: {
      ...untypedDataRules,
      '@typescript-eslint/no-explicit-any': 'off',
      'no-restricted-properties': 'off',
    },
  },
  // Client components and the e2e page callbacks run in the browser.
  {
    files: ['src/components/**', 'tests/e2e/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
  // Outside the app's settings: the `npm start` entry owns the process (port, its own marker),
  // and Next's build mode (NODE_ENV, NEXT_RUNTIME) is read where Next needs it.
  {
    files: ['server.mjs', 'next.config.ts', 'src/instrumentation.ts', 'src/proxy.ts'],
    rules: { 'no-restricted-properties': 'off' },
  },
];
