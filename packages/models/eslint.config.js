import { typeChecked } from '@ganstudio/eslint-config/type-checked';

export default [
  ...typeChecked(import.meta.dirname),
  // assembly/ is AssemblyScript (v128, @inline), compiled by asc, not TypeScript.
  { ignores: ['assembly/**'] },
  // The numeric kernels (FID's Cholesky and eigenvalues over Float64Array, the wasm training
  // kernels' heap views) read typed arrays inside their loops' bounds millions of times a call: a
  // checked read per element would be the cost, and `noUncheckedIndexedAccess` types each one
  // `number | undefined`. Their tests check the values against the cpu backend and by hand.
  {
    files: [
      'src/fid.ts',
      'src/linalg.ts',
      'src/wasm-kernels.ts',
      'src/wasm-scope.ts',
      'src/linalg-wasm.ts',
    ],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
];
