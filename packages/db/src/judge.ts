/**
 * The queries of the judge game (HYPE∞ after Zhou et al., NeurIPS 2019): real images,
 * trials and their answers, and each model's human numbers. Web-standard only (runs at the edge).
 */
import { and, asc, desc, eq, isNotNull, isNull, sql } from 'drizzle-orm';
import type { Db } from './client';
import {
  images,
  models,
  realImages,
  realSets,
  runMetrics,
  runs,
  trials,
  type Model,
} from './schema';

export type Truth = 'real' | 'generated';

const rowsOf = <T>(result: unknown) => (result as { rows: T[] }).rows;

/** Registers a real set and its images, once (a set id that exists is left as it is). */
export async function insertRealSet(
  db: Db,
  set: { id: string; name: string; source: string },
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

/** A uniformly random real image (`offset` in [0, count)), or undefined when there is none. */
export async function realImageAt(
  db: Db,
  offset: number,
): Promise<{ id: string; png: Uint8Array } | undefined> {
  const [row] = await db
    .select({ id: realImages.id, png: realImages.png })
    .from(realImages)
    .orderBy(asc(realImages.id))
    .limit(1)
    .offset(offset);
  return row;
}

/**
 * The model with the fewest trials so far (ties broken at random), so every model collects
 * judgements. Only models drawing at the real images' side take part: a 64×64 sample next to
 * 32×32 photographs would give itself away by its size.
 */
export async function leastJudgedModel(db: Db, side = 32): Promise<Model | undefined> {
  const [row] = await db
    .select({ model: models })
    .from(models)
    .leftJoin(trials, eq(trials.modelId, models.id))
    .where(eq(models.resolution, side))
    .groupBy(models.id)
    .orderBy(sql`count(${trials.id})`, sql`random()`)
    .limit(1);
  return row?.model;
}

export async function createTrial(db: Db, row: typeof trials.$inferInsert): Promise<void> {
  await db.insert(trials).values(row);
}

export async function trialImage(
  db: Db,
  id: string,
): Promise<{ visitorId: string; png: Uint8Array | null; expiresAt: Date } | undefined> {
  const [row] = await db
    .select({ visitorId: trials.visitorId, png: trials.png, expiresAt: trials.expiresAt })
    .from(trials)
    .where(eq(trials.id, id));
  return row;
}

export type AnswerOutcome =
  | { ok: true; correct: boolean; truth: Truth; modelId: string | null; modelName: string | null }
  | { ok: false; reason: 'not_found' | 'not_yours' | 'answered' | 'expired' };

/**
 * Records an answer once: one UPDATE that only matches the owner's unanswered, unexpired trial,
 * so two answers racing each other count once. When it matches nothing, the row says why.
 */
export async function answerTrial(
  db: Db,
  id: string,
  visitorId: string,
  answer: Truth,
): Promise<AnswerOutcome> {
  const [done] = await db
    .update(trials)
    .set({ answer, correct: sql`${trials.kind} = ${answer}`, answeredAt: sql`now()` })
    .where(
      and(
        eq(trials.id, id),
        eq(trials.visitorId, visitorId),
        isNull(trials.answer),
        sql`${trials.expiresAt} > now()`,
      ),
    )
    .returning({ kind: trials.kind, correct: trials.correct, modelId: trials.modelId });
  if (done) {
    const model = done.modelId
      ? (await db.select({ name: models.name }).from(models).where(eq(models.id, done.modelId)))[0]
      : undefined;
    return {
      ok: true,
      correct: Boolean(done.correct),
      truth: done.kind,
      modelId: done.modelId,
      modelName: model?.name ?? null,
    };
  }
  const [row] = await db
    .select({
      visitorId: trials.visitorId,
      answer: trials.answer,
      expired: sql<boolean>`${trials.expiresAt} <= now()`,
    })
    .from(trials)
    .where(eq(trials.id, id));
  if (!row) return { ok: false, reason: 'not_found' };
  if (row.visitorId !== visitorId) return { ok: false, reason: 'not_yours' };
  if (row.answer) return { ok: false, reason: 'answered' };
  return { ok: false, reason: 'expired' };
}

/** Served bytes are dropped an hour after a trial expires; the answer and its truth stay. */
export async function forgetOldTrialImages(db: Db): Promise<void> {
  await db
    .update(trials)
    .set({ png: null })
    .where(and(isNotNull(trials.png), sql`${trials.expiresAt} < now() - interval '1 hour'`));
}

/** Raw counts behind a model's human numbers (see humanScore in @ganstudio/api for the maths). */
export interface HumanCounts {
  modelId: string;
  /** Answered trials that showed this model's samples, and how many were judged real. */
  judgements: number;
  fooled: number;
  /** Answered real trials in the same period (the model's first to last answer), and how many were judged generated. */
  realJudgements: number;
  realErrors: number;
}

export async function humanCounts(db: Db): Promise<Map<string, HumanCounts>> {
  const result = await db.execute(sql`
    with g as (
      select model_id, count(*)::int as n, (count(*) filter (where answer = 'real'))::int as fooled,
             min(answered_at) as first, max(answered_at) as last
      from trials where kind = 'generated' and answer is not null group by model_id
    )
    select g.model_id, g.n, g.fooled,
      (select count(*)::int from trials r where r.kind = 'real' and r.answer is not null
         and r.answered_at between g.first and g.last) as rn,
      (select count(*)::int from trials r where r.kind = 'real' and r.answer = 'generated'
         and r.answered_at between g.first and g.last) as rerr
    from g`);
  const out = new Map<string, HumanCounts>();
  for (const r of rowsOf<{ model_id: string; n: number; fooled: number; rn: number; rerr: number }>(
    result,
  ))
    out.set(r.model_id, {
      modelId: r.model_id,
      judgements: Number(r.n),
      fooled: Number(r.fooled),
      realJudgements: Number(r.rn),
      realErrors: Number(r.rerr),
    });
  return out;
}

/** Each model with its run's FID/IS at the model's epoch (the run's periodic protocol) and its images' mean vote. */
export async function modelsWithQuality(db: Db) {
  const rows = await db
    .select({ model: models, run: runs })
    .from(models)
    .leftJoin(runs, eq(runs.id, models.runId))
    .orderBy(desc(models.createdAt));
  const votes = await db
    .select({
      modelId: images.modelId,
      images: sql<number>`count(*)::int`,
      meanVote: sql<number>`avg(${images.score})::float8`,
    })
    .from(images)
    .groupBy(images.modelId);
  const byModel = new Map(votes.map((v) => [v.modelId, v]));
  const out = [];
  for (const { model, run } of rows) {
    // run_metrics epochs are 0-based; a model's epoch counts epochs trained.
    const [fid] = model.runId
      ? await db
          .select({ fid: runMetrics.fid, isScore: runMetrics.isScore })
          .from(runMetrics)
          .where(
            and(
              eq(runMetrics.runId, model.runId),
              eq(runMetrics.epoch, model.epoch - 1),
              isNotNull(runMetrics.fid),
            ),
          )
          .orderBy(desc(runMetrics.step))
          .limit(1)
      : [];
    const protocol = (
      run?.config as { fid_protocol?: { feature_network?: string; samples?: number } } | undefined
    )?.fid_protocol;
    const v = byModel.get(model.id);
    out.push({
      model,
      fid: fid?.fid ?? null,
      isScore: fid?.isScore ?? null,
      featureNetwork: protocol?.feature_network ?? null,
      fidSamples: protocol?.samples ?? null,
      images: Number(v?.images ?? 0),
      meanVote: v ? Number(v.meanVote) : null,
    });
  }
  return out;
}
