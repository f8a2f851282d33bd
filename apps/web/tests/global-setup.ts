/**
 * Once before the browser and instance suites: Debian's Chromium is there (playwright-core cannot
 * download a browser here), and the app is built (`npm run build`, unless .next is already there
 * and E2E_REBUILD is unset).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { APP, CHROMIUM, run } from './helpers';

export default async function setup(): Promise<void> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} not found; install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`,
    );
  if (!existsSync(join(APP, '.next', 'BUILD_ID')) || process.env['E2E_REBUILD'])
    await run('npm', ['run', 'build']);
}
