/**
 * First start: register the generator bundled with the repository (apps/web/bundled/default-run,
 * a trimmed run folder) and its run, so a fresh clone shows real samples and a real /runs history.
 */
import 'server-only';

import { join } from 'node:path';

import type { Db } from '@ganstudio/db/client';
import { seedBundledRun } from '@ganstudio/runs';
import type { BlobStore } from '@ganstudio/storage';

export const BUNDLED_RUN = join(process.cwd(), 'bundled', 'default-run');

export async function seedBundledModel(db: Db, store: BlobStore): Promise<void> {
  await seedBundledRun(db, store, BUNDLED_RUN);
}
