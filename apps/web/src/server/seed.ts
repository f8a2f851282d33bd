/**
 * First start: register what ships with the repository (@ganstudio/bundled's manifest): the
 * default generator and its run, the class-conditional one, the reference runs and the judge
 * game's real set, so a fresh clone shows real samples, a real /runs history and a playable game.
 */
import 'server-only';

import { seedBundled } from '@ganstudio/api/features/publish';
import { bundledArtifacts } from '@ganstudio/bundled';
import type { Db } from '@ganstudio/db/client';
import { folderReader } from '@ganstudio/runs/folder';
import type { BlobStore } from '@ganstudio/storage';

export async function seedGallery(db: Db, store: BlobStore): Promise<void> {
  await seedBundled(db, store, bundledArtifacts(), folderReader);
}
