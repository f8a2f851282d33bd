/** Shared Prettier config: every workspace points "prettier" in its package.json here. */
export default {
  printWidth: 100,
  singleQuote: true,
  trailingComma: 'all',
  semi: true,
};
