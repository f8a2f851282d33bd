/**
 * Flat-config preset for every TypeScript workspace. A workspace's eslint.config.js spreads it
 * and adds at most its own globals; nothing is copied between packages.
 */
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

import workspace from './workspace-boundary.js';

/**
 * Gallery settings are read in one place (gallerySettings in packages/api/src/settings.ts, fed by
 * each platform's entry); a stray `process.env.X` elsewhere is how two apps drifted apart before.
 * Workspaces whose own runtime knobs are not gallery settings (the trainer CLI) turn it off.
 */
export const settingsRule = {
  'no-restricted-properties': [
    'error',
    {
      object: 'process',
      property: 'env',
      message:
        'Read settings through gallerySettings (packages/api/src/settings.ts), in the entry that owns the environment.',
    },
    {
      object: 'Deno',
      property: 'env',
      message:
        'Read settings through gallerySettings (packages/api/src/settings.ts), in the entry that owns the environment.',
    },
  ],
};

export default tseslint.config(
  { ignores: ['**/dist/**', '**/.cache/**', '**/.next/**', '**/coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { workspace },
    rules: {
      'workspace/no-cross-root': 'error',
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
      ...settingsRule,
    },
  },
  // Tests, fixtures and benchmarks set up their own world (a test database URL, CI flags).
  {
    files: ['**/*.test.ts', '**/testing.ts', '**/testing/**', '**/tests/**', '**/bench/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
);
