/**
 * Flat-config preset for every TypeScript workspace. A workspace's eslint.config.js spreads it
 * and adds at most its own globals; nothing is copied between packages.
 */
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/.cache/**', '**/.next/**', '**/coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-restricted-syntax': [
        'error',
        // Module-level reassignment of `tf` makes a model's code hard to follow: one import, one meaning.
        { selector: "AssignmentExpression[left.name='tf']", message: 'Do not reassign tf.' },
      ],
    },
  },
);
