/**
 * Shared Vitest settings. Tests sit beside their modules (`*.test.ts`); tfjs work on the cpu
 * backend is slow on a 2-core machine, hence the generous timeout and forks (one tfjs engine per
 * file, so tensor-count assertions never see another file's tensors).
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
