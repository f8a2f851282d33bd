/**
 * Real sets: the real images the judge game mixes in (`ganstudio real-set` writes one, publishRealSet
 * registers it), each stored as an uncompressed PNG.
 */
import { asc, eq, sql } from 'drizzle-orm';

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

export async function countRealImages(db: Db): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(realImages);
  return Number(row?.n ?? 0);
}

/**
 * A uniformly random real image (`offset` in [0, count)) with its class name where its set names
 * its labels, or undefined when there is none.
 */
export async function realImageAt(
  db: Db,
  offset: number,
): Promise<{ id: string; png: Uint8Array; className: string | null } | undefined> {
  const [row] = await db
    .select({
      id: realImages.id,
      png: realImages.png,
      label: realImages.label,
      classes: realSets.classes,
    })
    .from(realImages)
    .innerJoin(realSets, eq(realSets.id, realImages.setId))
    .orderBy(asc(realImages.id))
    .limit(1)
    .offset(offset);
  if (!row) return undefined;
  const className = row.label === null ? null : (row.classes?.[row.label] ?? null);
  return { id: row.id, png: row.png, className };
}
