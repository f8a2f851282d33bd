/** Shared Prettier config: every workspace points "prettier" in its package.json here. */
export default {
  printWidth: 100,
  singleQuote: true,
  trailingComma: 'all',
  semi: true,
  // Ordered imports: Node built-ins, then packages, then this repository's packages, then the
  // app's own modules. Side-effect imports (tfjs backends, 'server-only') stay where they are:
  // the plugin never moves code across them, so registration order is kept.
  plugins: ['@ianvs/prettier-plugin-sort-imports'],
  importOrder: [
    '<BUILTIN_MODULES>',
    '<THIRD_PARTY_MODULES>',
    '',
    '^@ganstudio/(.*)$',
    '',
    '^~/(.*)$',
    '^[.]',
  ],
  importOrderTypeScriptVersion: '5.9.3',
};
