/**
 * Real sets: the real images the judge game mixes in (`ganstudio real-set` writes one, publishRealSet
 * registers it), each stored as an uncompressed PNG.
 */
import { eq } from 'drizzle-orm';

import type { Db } from '@ganstudio/db/client';
import { realImages, realSets } from '@ganstudio/db/schema';

/** Registers a real set and its images, once (a set id that exists is left as it is). */
export async function insertRealSet(
  db: Db,
  set: { id: string; name: string; source: string; classes?: string[] | null },
  items: { idx: number; label: number | null; png: Uint8Array }[],
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [created] = await tx
      .insert(realSets)
      .values({ ...set, count: items.length })
      .onConflictDoNothing()
      .returning();
    if (!created) return false;
    for (let i = 0; i < items.length; i += 200) {
      await tx
        .insert(realImages)
        .values(
          items
            .slice(i, i + 200)
            .map((it) => ({ id: `${set.id}-${it.idx}`, setId: set.id, ...it })),
        );
    }
    return true;
  });
}

export async function realSetExists(db: Db, id: string): Promise<boolean> {
  return (
    (await db.select({ id: realSets.id }).from(realSets).where(eq(realSets.id, id))).length > 0
  );
}
