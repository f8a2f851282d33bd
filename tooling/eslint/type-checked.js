/**
 * The base preset plus type-aware rules (typescript-eslint's recommendedTypeChecked), and no
 * non-null assertions outside tests: `x!` silences the check `noUncheckedIndexedAccess` exists
 * for. A workspace opts in with `typeChecked(import.meta.dirname)`.
 */
import tseslint from 'typescript-eslint';

import base from './base.js';

/**
 * For suites that read what a process wrote (JSON.parse of a run's files, an API's JSON, values
 * from a browser page: `any`): their assertions are the type check of that data.
 */
export const untypedDataRules = {
  '@typescript-eslint/no-unsafe-assignment': 'off',
  '@typescript-eslint/no-unsafe-member-access': 'off',
  '@typescript-eslint/no-unsafe-argument': 'off',
  '@typescript-eslint/no-unsafe-return': 'off',
  '@typescript-eslint/no-unsafe-call': 'off',
};

export function typeChecked(tsconfigRootDir) {
  return tseslint.config(
    ...base,
    ...tseslint.configs.recommendedTypeChecked,
    {
      languageOptions: {
        parserOptions: {
          // vitest.config.ts beside a package is outside its tsconfig's `src`.
          projectService: { allowDefaultProject: ['vitest.config.ts'] },
          tsconfigRootDir,
        },
      },
    },
    { rules: { '@typescript-eslint/no-non-null-assertion': 'error' } },
    {
      files: ['**/*.test.ts', '**/testing.ts', '**/testing/**', '**/bench/**'],
      rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
    },
    // Plain JS (eslint.config.js itself) is outside the TypeScript project.
    { files: ['**/*.js', '**/*.mjs', '**/*.cjs'], ...tseslint.configs.disableTypeChecked },
  );
}
