/**
 * First start: register what ships with the repository (seedBundledRun): the default generator
 * (apps/web/bundled/default-run, a trimmed run folder) and its run, the class-conditional one, the
 * reference runs and the judge game's real set, so a fresh clone shows real samples, a real /runs
 * history and a playable game.
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
