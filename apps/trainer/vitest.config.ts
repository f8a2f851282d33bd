import { mergeConfig } from 'vitest/config';

import base from '@ganstudio/vitest-config';

// Each test file measures on a cache of its own (src/testing/fresh-cache.ts), as a fresh machine.
export default mergeConfig(base, { test: { setupFiles: ['./src/testing/fresh-cache.ts'] } });
