/**
 * First start: register the generator bundled with the repository (apps/web/bundled/default-run,
 * a trimmed run folder) and its run, so a fresh clone shows real samples and a real /runs history.
 */
import 'server-only';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '@ganstudio/db/client';
import { publishRunFolder } from '@ganstudio/publish';
import type { BlobStore } from '@ganstudio/storage';

export const BUNDLED_RUN = join(process.cwd(), 'bundled', 'default-run');

export async function seedBundledModel(db: Db, store: BlobStore): Promise<void> {
  if (!existsSync(BUNDLED_RUN)) return;
  const card = join(BUNDLED_RUN, 'card.json');
  const meta = (existsSync(card) ? JSON.parse(readFileSync(card, 'utf8')) : {}) as { name?: string; note?: string };
  await publishRunFolder(db, store, BUNDLED_RUN, {
    runId: 'dcgan-cifar10',
    ...(meta.name ? { name: meta.name } : {}),
    ...(meta.note ? { note: meta.note } : {}),
    isDefault: true,
    onlyIfMissing: true,
  });
}
