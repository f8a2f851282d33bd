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
  // Outside the app's settings: the `npm start` entry owns the process (port, its own marker),
  // and Next's build mode (NODE_ENV, NEXT_RUNTIME) is read where Next needs it.
  {
    files: ['server.mjs', 'next.config.ts', 'src/instrumentation.ts', 'src/proxy.ts'],
    rules: { 'no-restricted-properties': 'off' },
  },
];
