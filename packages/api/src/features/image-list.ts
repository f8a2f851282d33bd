/**
 * The gallery's wall: images newest first or top-voted, a page at a time behind opaque cursors,
 * with the visitor's own votes; what GET /api/images and the home page show.
 */
import { and, desc, eq, lt, or, type SQL } from 'drizzle-orm';

import type { Db } from '@ganstudio/db/client';
import { images, models, type Image } from '@ganstudio/db/schema';

import { DbError } from '../http';
import { getVotes } from './votes';

export type ImageSort = 'new' | 'top';

export interface ImageRow extends Image {
  modelName: string;
  /** The model's class names (null: unconditional), to name the image's class. */
  modelClasses: string[] | null;
}

export interface ImagePage {
  items: ImageRow[];
  nextCursor: string | null;
}

/** Cursors are opaque to clients: base64url of the sort key of the last item (web APIs only, so this runs at the edge too). */
function encodeCursor(parts: (string | number)[]): string {
  const bytes = new TextEncoder().encode(JSON.stringify(parts));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

function base64urlToString(s: string): string {
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}

/**
 * An ISO timestamp as this list writes it (toISOString, years 1970–9999). Date.parse alone accepts
 * year 0, negative and six-digit years that PostgreSQL then rejects (a 500 and a logged query).
 */
const isInstant = (v: unknown): v is string =>
  typeof v === 'string' &&
  /^(19[7-9]\d|[2-9]\d{3})-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(v) &&
  !Number.isNaN(Date.parse(v)) &&
  new Date(v).toISOString() === v;
/** A score as the images table holds it (a PostgreSQL integer). */
const isScore = (v: unknown): v is number =>
  Number.isInteger(v) && (v as number) >= -(2 ** 31) && (v as number) < 2 ** 31;
const isCursorId = (v: unknown): v is string =>
  typeof v === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(v);

function decodeCursor(
  cursor: string,
  sort: ImageSort,
): [number, string, string] | [string, string] {
  try {
    const parts = JSON.parse(base64urlToString(cursor)) as unknown;
    if (
      sort === 'new' &&
      Array.isArray(parts) &&
      parts.length === 2 &&
      isInstant(parts[0]) &&
      isCursorId(parts[1])
    ) {
      return parts as [string, string];
    }
    if (
      sort === 'top' &&
      Array.isArray(parts) &&
      parts.length === 3 &&
      isScore(parts[0]) &&
      isInstant(parts[1]) &&
      isCursorId(parts[2])
    ) {
      return parts as [number, string, string];
    }
  } catch {
    // fall through
  }
  throw new DbError('bad_cursor', 'cursor is not one this list issued');
}

export async function listImages(
  db: Db,
  sort: ImageSort,
  cursor: string | null,
  limit: number,
): Promise<ImagePage> {
  let after: SQL | undefined;
  if (cursor) {
    const c = decodeCursor(cursor, sort);
    if (sort === 'new') {
      const [at, id] = c as [string, string];
      after = or(
        lt(images.createdAt, new Date(at)),
        and(eq(images.createdAt, new Date(at)), lt(images.id, id)),
      );
    } else {
      const [score, at, id] = c as [number, string, string];
      after = or(
        lt(images.score, score),
        and(eq(images.score, score), lt(images.createdAt, new Date(at))),
        and(eq(images.score, score), eq(images.createdAt, new Date(at)), lt(images.id, id)),
      );
    }
  }
  const order =
    sort === 'new'
      ? [desc(images.createdAt), desc(images.id)]
      : [desc(images.score), desc(images.createdAt), desc(images.id)];
  const rows = await db
    .select({ image: images, modelName: models.name, modelClasses: models.classes })
    .from(images)
    .innerJoin(models, eq(models.id, images.modelId))
    .where(after)
    .orderBy(...order)
    .limit(limit + 1);
  const items = rows
    .slice(0, limit)
    .map((r) => ({ ...r.image, modelName: r.modelName, modelClasses: r.modelClasses }));
  const last = items[items.length - 1];
  const nextCursor =
    rows.length > limit && last
      ? encodeCursor(
          sort === 'new'
            ? [last.createdAt.toISOString(), last.id]
            : [last.score, last.createdAt.toISOString(), last.id],
        )
      : null;
  return { items, nextCursor };
}

/** An image as the API and the pages show it (`myVote`: the visitor's own vote, where known). */
export function imageJson(image: ImageRow, myVote?: number) {
  return {
    id: image.id,
    modelId: image.modelId,
    modelName: image.modelName,
    seed: image.seed,
    /** The class index and name of a class-conditional model's image; null otherwise. */
    class: image.classIndex,
    className: image.classIndex === null ? null : (image.modelClasses?.[image.classIndex] ?? null),
    url: image.pngUrl,
    score: image.score,
    createdAt: image.createdAt,
    ...(myVote === undefined ? {} : { myVote }),
  };
}
export type ImageJson = ReturnType<typeof imageJson>;

/** A page of images with the visitor's own votes: what GET /api/images and the home page show. */
export async function imagePage(
  db: Db,
  query: { sort: ImageSort; cursor: string | null; limit: number; visitorId?: string | undefined },
) {
  const page = await listImages(db, query.sort, query.cursor, query.limit);
  const mine = query.visitorId
    ? await getVotes(
        db,
        query.visitorId,
        page.items.map((i) => i.id),
      )
    : new Map<string, number>();
  return {
    items: page.items.map((i) => imageJson(i, mine.get(i.id) ?? 0)),
    nextCursor: page.nextCursor,
  };
}
