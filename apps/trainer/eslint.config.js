import node from '@ganstudio/eslint-config/node';

// wasm-thread-worker.cjs is a CommonJS worker entry: require() is how it loads.
export default [
  ...node,
  { files: ['**/*.cjs'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
  // The CLI's own knobs (GANSTUDIO_CWD, GANSTUDIO_CACHE, DEBUG, …) are not gallery settings; only
  // `upload`, which writes to a gallery, reads the gallery's through gallerySettings.
  { ignores: ['src/commands/upload.ts'], rules: { 'no-restricted-properties': 'off' } },
];
