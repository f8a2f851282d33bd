/**
 * Every query the gallery makes, one named function each, on any Drizzle Postgres driver.
 * Failures a client caused surface as DbError with a stable code; the API maps codes to 4xx.
 */
import { and, desc, eq, lt, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from './client';
import {
  images,
  models,
  runMetrics,
  runs,
  runSamples,
  votes,
  type Image,
  type Model,
  type Run,
} from './schema';

export class DbError extends Error {
  constructor(
    readonly code: 'not_found' | 'conflict' | 'bad_cursor' | 'address_cap',
    message: string,
  ) {
    super(message);
  }
}

export type ImageSort = 'new' | 'top';

export interface ImageRow extends Image {
  modelName: string;
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
    .select({ image: images, modelName: models.name })
    .from(images)
    .innerJoin(models, eq(models.id, images.modelId))
    .where(after)
    .orderBy(...order)
    .limit(limit + 1);
  const items = rows.slice(0, limit).map((r) => ({ ...r.image, modelName: r.modelName }));
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

export async function getImage(
  db: Db,
  id: string,
): Promise<(ImageRow & { model: Model }) | undefined> {
  const [row] = await db
    .select({ image: images, model: models })
    .from(images)
    .innerJoin(models, eq(models.id, images.modelId))
    .where(eq(images.id, id));
  return row ? { ...row.image, modelName: row.model.name, model: row.model } : undefined;
}

export async function findImageBySeed(
  db: Db,
  modelId: string,
  seed: number,
): Promise<Image | undefined> {
  const [row] = await db
    .select()
    .from(images)
    .where(and(eq(images.modelId, modelId), eq(images.seed, seed)));
  return row;
}

export async function insertImage(db: Db, row: typeof images.$inferInsert): Promise<Image> {
  const [inserted] = await db.insert(images).values(row).onConflictDoNothing().returning();
  if (inserted) return inserted;
  // Same model and seed published concurrently: the first one wins, and is the answer.
  const existing = await findImageBySeed(db, row.modelId, row.seed);
  if (!existing) throw new DbError('conflict', 'image id collision');
  return existing;
}

/** Where a vote came from, for the per-address cap. */
export interface VoteOrigin {
  /** Keyed hash of the client address; never the address itself. */
  addr: string;
  /** Most voters one address may have on one image. */
  cap: number;
}

const rowsOf = <T>(result: unknown) => (result as { rows: T[] }).rows;
/** SQLSTATE of an error from either driver (drizzle may wrap the driver's error as its cause). */
const sqlState = (err: unknown): string | undefined => {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = typeof e?.code === 'string' ? e.code : e?.cause?.code;
  return typeof code === 'string' ? code : undefined;
};

/**
 * Sets (±1) or withdraws (0) a visitor's vote and returns the image's new score: one round trip to
 * the cast_vote function (migrations 0001, 0002), which locks the image row, so concurrent and
 * repeated votes can neither be lost nor double-counted: score = Σ votes, always. With an origin,
 * a voter new to the image is refused (DbError 'address_cap') once its address has `cap` voters there.
 */
export async function castVote(
  db: Db,
  imageId: string,
  voterId: string,
  value: -1 | 0 | 1,
  origin?: VoteOrigin,
): Promise<{ score: number; vote: number }> {
  let result: unknown;
  try {
    result = await db.execute(
      sql`select cast_vote(${imageId}, ${voterId}, ${value}::smallint, ${origin?.addr ?? null}::text, ${origin?.cap ?? null}::integer) as score`,
    );
  } catch (err) {
    if (sqlState(err) === 'GS429')
      throw new DbError(
        'address_cap',
        `this network has already cast ${origin?.cap} votes on this image`,
      );
    throw err;
  }
  const score = rowsOf<{ score: number | null }>(result)[0]?.score;
  if (score === null || score === undefined) throw new DbError('not_found', 'no such image');
  return { score: Number(score), vote: value };
}

/** One bucket of a shared token-bucket limit: `limit` tokens per `windowMs` (at most a day). */
export interface Bucket {
  key: string;
  limit: number;
  windowMs: number;
}

/**
 * Takes one token from every bucket, all or none, in one round trip (rate_take, migration 0002),
 * so every instance on this database spends the same budgets. Returns 0 when allowed, else the
 * seconds until each bucket has a token again.
 */
export async function takeTokens(db: Db, buckets: Bucket[]): Promise<number> {
  if (!buckets.length) return 0;
  const arr = (xs: (string | number)[]) =>
    sql`${'{' + xs.map((x) => JSON.stringify(String(x))).join(',') + '}'}`;
  const result = await db.execute(
    sql`select rate_take(${arr(buckets.map((b) => b.key))}::text[], ${arr(buckets.map((b) => b.limit))}::integer[], ${arr(buckets.map((b) => b.windowMs))}::integer[]) as wait`,
  );
  return Number(rowsOf<{ wait: number }>(result)[0]?.wait ?? 0);
}

export async function getVotes(
  db: Db,
  voterId: string,
  imageIds: string[],
): Promise<Map<string, number>> {
  if (!imageIds.length) return new Map();
  const rows = await db
    .select({ imageId: votes.imageId, value: votes.value })
    .from(votes)
    .where(and(eq(votes.voterId, voterId), sql`${votes.imageId} in ${imageIds}`));
  return new Map(rows.map((r) => [r.imageId, r.value]));
}

export async function listModels(db: Db): Promise<Model[]> {
  return db.select().from(models).orderBy(desc(models.isDefault), desc(models.createdAt));
}

export async function getModel(db: Db, id: string): Promise<Model | undefined> {
  const [row] = await db.select().from(models).where(eq(models.id, id));
  return row;
}

export async function insertModel(db: Db, row: typeof models.$inferInsert): Promise<Model> {
  return db.transaction(async (tx) => {
    if (row.isDefault)
      await tx.update(models).set({ isDefault: false }).where(eq(models.isDefault, true));
    const [inserted] = await tx
      .insert(models)
      .values(row)
      .onConflictDoUpdate({ target: models.id, set: { ...row, createdAt: undefined } })
      .returning();
    return inserted!;
  });
}

export async function upsertRun(
  db: Db,
  run: typeof runs.$inferInsert,
  samples: { epoch: number; url: string }[],
  metrics: Omit<typeof runMetrics.$inferInsert, 'runId'>[],
): Promise<Run> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(runs)
      .values(run)
      .onConflictDoUpdate({ target: runs.id, set: { ...run, createdAt: undefined } })
      .returning();
    await tx.delete(runSamples).where(eq(runSamples.runId, run.id));
    await tx.delete(runMetrics).where(eq(runMetrics.runId, run.id));
    if (samples.length)
      await tx.insert(runSamples).values(samples.map((s) => ({ ...s, runId: run.id })));
    for (let i = 0; i < metrics.length; i += 1000) {
      await tx
        .insert(runMetrics)
        .values(metrics.slice(i, i + 1000).map((m) => ({ ...m, runId: run.id })));
    }
    return row!;
  });
}

export async function listRuns(db: Db): Promise<Run[]> {
  return db.select().from(runs).orderBy(desc(runs.createdAt));
}

export async function runExists(db: Db, id: string): Promise<boolean> {
  return (await db.select({ id: runs.id }).from(runs).where(eq(runs.id, id))).length > 0;
}

export async function getRun(db: Db, id: string) {
  const [run] = await db.select().from(runs).where(eq(runs.id, id));
  if (!run) return undefined;
  const samples = await db
    .select()
    .from(runSamples)
    .where(eq(runSamples.runId, id))
    .orderBy(runSamples.epoch);
  const metrics = await db
    .select()
    .from(runMetrics)
    .where(eq(runMetrics.runId, id))
    .orderBy(runMetrics.step);
  const runModels = await db
    .select()
    .from(models)
    .where(eq(models.runId, id))
    .orderBy(desc(models.createdAt));
  return { run, samples, metrics, models: runModels };
}
