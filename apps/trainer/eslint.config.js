import node from '@ganstudio/eslint-config/node';

// wasm-thread-worker.cjs is a CommonJS worker entry: require() is how it loads.
export default [
  ...node,
  { files: ['**/*.cjs'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
];
