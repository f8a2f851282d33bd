/**
 * The queries of the judge game (HYPE∞ after Zhou et al., NeurIPS 2019): real images,
 * trials and their answers, and each model's human numbers. Web-standard only (runs at the edge).
 */
import { and, asc, desc, eq, isNotNull, isNull, sql } from 'drizzle-orm';
import type { Db } from './client';
import {
  images,
  judgeTallies,
  models,
  realImages,
  realSets,
  runMetrics,
  runs,
  trials,
  votes,
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
 * The models the game can show: those drawing at the real images' side (a 64×64 sample next to
 * 32×32 photographs would give itself away by its size). Which one a trial shows is drawn by the
 * API, weighted by answered judgements (judgeTallies).
 */
export async function judgeableModels(db: Db, side = 32): Promise<Model[]> {
  return db.select().from(models).where(eq(models.resolution, side)).orderBy(asc(models.id));
}

export async function createTrial(db: Db, row: typeof trials.$inferInsert): Promise<void> {
  await db.insert(trials).values(row);
}

/** A visitor's trials still open: not answered and not expired. */
export async function openTrials(db: Db, visitorId: string): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(trials)
    .where(
      and(eq(trials.visitorId, visitorId), isNull(trials.answer), sql`${trials.expiresAt} > now()`),
    );
  return Number(row?.n ?? 0);
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
  | {
      ok: true;
      correct: boolean;
      truth: Truth;
      modelId: string | null;
      modelName: string | null;
      /** Whether it was added to the tallies (false past its contributor's or network's cap). */
      counted: boolean;
    }
  | { ok: false; reason: 'not_found' | 'not_yours' | 'answered' | 'expired' };

/** How much one contributor, and one network, adds to one subject's tally (judge_answer). */
export interface TallyCaps {
  perContributor: number;
  perNetwork: number;
}

/**
 * Records an answer once and adds it to its contributor's tally within the caps: one round trip
 * to judge_answer (migration 0007), which only matches the owner's unanswered, unexpired trial, so
 * two answers racing each other count once. When it matches nothing, the outcome says why.
 */
export async function answerTrial(
  db: Db,
  id: string,
  visitorId: string,
  answer: Truth,
  caps: TallyCaps,
): Promise<AnswerOutcome> {
  const result = await db.execute(
    sql`select * from judge_answer(${id}, ${visitorId}, ${answer}, ${caps.perContributor}::integer, ${caps.perNetwork}::integer)`,
  );
  const [row] = rowsOf<{
    outcome: string;
    kind: Truth | null;
    model_id: string | null;
    correct: boolean | null;
    counted: boolean | null;
  }>(result);
  if (!row || row.outcome !== 'ok')
    return {
      ok: false,
      reason: (row?.outcome ?? 'not_found') as 'not_found' | 'not_yours' | 'answered' | 'expired',
    };
  const model = row.model_id
    ? (await db.select({ name: models.name }).from(models).where(eq(models.id, row.model_id)))[0]
    : undefined;
  return {
    ok: true,
    correct: Boolean(row.correct),
    truth: row.kind!,
    modelId: row.model_id,
    modelName: model?.name ?? null,
    counted: Boolean(row.counted),
  };
}

/**
 * Deletes trials that expired before `before` (answered ones too: their answers live on in the
 * tallies), at most `limit` rows a call so one call stays short. Returns how many went.
 */
export async function deleteOldTrials(db: Db, before: Date, limit = 500): Promise<number> {
  const gone = await db
    .delete(trials)
    .where(
      sql`${trials.id} in (select ${trials.id} from ${trials} where ${trials.expiresAt} < ${before.toISOString()}::timestamptz limit ${limit})`,
    )
    .returning({ id: trials.id });
  return gone.length;
}

export async function countTrials(db: Db): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(trials);
  return Number(row?.n ?? 0);
}

/** One row of judge_tallies: what one contributor added to one model, or to REAL_SUBJECT. */
export type Tally = typeof judgeTallies.$inferSelect;

/** Every tally: one row per contributor and subject, so far fewer rows than trials. */
export async function judgeTallyRows(db: Db): Promise<Tally[]> {
  return db.select().from(judgeTallies);
}

/**
 * Neutral contributors (mean vote 0) every model's mean vote starts with: one contributor alone
 * moves it by at most 2 / (1 + VOTE_PRIOR_CONTRIBUTORS), whatever it publishes or votes.
 */
export const VOTE_PRIOR_CONTRIBUTORS = 3;

/**
 * Each model's mean vote as its voters' networks see it: every contributor (the address its votes
 * came from: IPv4, or an IPv6 /64; a visitor's own id for votes before addresses were kept) counts
 * once, as its mean vote over the model's images, and the sum is shrunk towards 0 by
 * VOTE_PRIOR_CONTRIBUTORS neutral ones: mean = Σ_c mean_c / (C + prior), in [−1, 1].
 */
export async function modelVotes(
  db: Db,
): Promise<Map<string, { contributors: number; meanVote: number }>> {
  const result = await db.execute(sql`
    select model_id, count(*)::int as contributors, sum(m)::float8 as total from (
      select i.model_id, coalesce(v.addr, 'voter:' || v.voter_id) as c, avg(v.value) as m
      from ${votes} v join ${images} i on i.id = v.image_id group by 1, 2
    ) per_contributor group by model_id`);
  return new Map(
    rowsOf<{ model_id: string; contributors: number; total: number }>(result).map((r) => [
      r.model_id,
      {
        contributors: Number(r.contributors),
        meanVote: Number(r.total) / (Number(r.contributors) + VOTE_PRIOR_CONTRIBUTORS),
      },
    ]),
  );
}

/** Each model with its run's FID/IS at the model's epoch (the run's periodic protocol), its image count and mean vote. */
export async function modelsWithQuality(db: Db) {
  const rows = await db
    .select({ model: models, run: runs })
    .from(models)
    .leftJoin(runs, eq(runs.id, models.runId))
    .orderBy(desc(models.createdAt));
  const counts = await db
    .select({ modelId: images.modelId, images: sql<number>`count(*)::int` })
    .from(images)
    .groupBy(images.modelId);
  const imageCounts = new Map(counts.map((c) => [c.modelId, Number(c.images)]));
  const voteOf = await modelVotes(db);
  const out = [];
  for (const { model, run } of rows) {
    // Both count from 1: a model's epoch is the epochs trained, an FID point's the epochs completed.
    const [fid] = model.runId
      ? await db
          .select({ fid: runMetrics.fid, isScore: runMetrics.isScore })
          .from(runMetrics)
          .where(
            and(
              eq(runMetrics.runId, model.runId),
              eq(runMetrics.epoch, model.epoch),
              isNotNull(runMetrics.fid),
            ),
          )
          .orderBy(desc(runMetrics.step))
          .limit(1)
      : [];
    const protocol = (
      run?.config as { fid_protocol?: { feature_network?: string; samples?: number } } | undefined
    )?.fid_protocol;
    const v = voteOf.get(model.id);
    out.push({
      model,
      fid: fid?.fid ?? null,
      isScore: fid?.isScore ?? null,
      featureNetwork: protocol?.feature_network ?? null,
      fidSamples: protocol?.samples ?? null,
      images: imageCounts.get(model.id) ?? 0,
      voters: v?.contributors ?? 0,
      meanVote: v ? v.meanVote : null,
    });
  }
  return out;
}
