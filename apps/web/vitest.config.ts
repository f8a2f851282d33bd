import { mergeConfig } from 'vitest/config';

import base from '@ganstudio/vitest-config';

// The browser suite (tests/e2e) and the instance suite (tests/instances) each start gallery
// servers on one data folder or database: one file at a time, after one build (global-setup.ts).
export default mergeConfig(base, {
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 1_800_000,
  },
});
