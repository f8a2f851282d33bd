/**
 * The leaderboard: every model's human numbers (HYPE∞ from the judge game, computed from the
 * contributors' capped tallies; see ./judge), its machine numbers (FID/IS of its run at its epoch)
 * and the mean vote of its images, each counting contributors rather than requests.
 */
import { and, desc, eq, isNotNull, sql } from 'drizzle-orm';

import type { Db } from '@ganstudio/db/client';
import { rowsOf } from '@ganstudio/db/rows';
import {
  images,
  judgeTallies,
  models,
  REAL_SUBJECT,
  runMetrics,
  runs,
  votes,
  type Model,
  type Run,
} from '@ganstudio/db/schema';
import { measurementOf, type Measurement } from '@ganstudio/models/measurement';

import { type Core, type Route } from '../core';
import { HttpError, Id, json } from '../http';
import {
  JUDGEMENTS_PER_CONTRIBUTOR,
  MIN_JUDGEMENTS_TO_RANK,
  MIN_NETWORKS_TO_RANK,
  NETWORK_WEIGHT_SHARE,
  SCORE_CACHE_MS,
  TALLY_WINDOW,
  VOTE_PRIOR_CONTRIBUTORS,
} from '../policy';
import { humanScore, type HumanScore, type NetworkTally } from './human-score';
import { getModel } from './models';
import { runCurve } from './runs';

/** What one contributor added to one model, or to REAL_SUBJECT, over TALLY_WINDOW. */
export type Tally = Omit<typeof judgeTallies.$inferSelect, 'period'>;

/** Every contributor's tally per subject over the window: far fewer rows than trials. */
export async function judgeTallyRows(db: Db): Promise<Tally[]> {
  const { periodS, periods } = TALLY_WINDOW;
  const result = await db.execute(sql`
    select contributor, subject, network, sum(judgements)::int as judgements, sum(wrong)::int as wrong
    from ${judgeTallies}
    where period > floor(extract(epoch from now()) / ${periodS}::integer)::integer - ${periods}::integer
    group by contributor, subject, network`);
  return rowsOf<Tally>(result).map((r) => ({
    ...r,
    judgements: Number(r.judgements),
    wrong: Number(r.wrong),
  }));
}

/**
 * Each model's mean vote as its voters' networks see it: every network (its votes' `addr`: an IPv4
 * address or an IPv6 /48; a visitor's own id for votes before addresses were kept) counts once, as its mean vote over the model's images, and the sum is shrunk towards 0 by
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

/**
 * A model's machine measurement: its own (of its quantized weights) when it has one, else its
 * run's curve point at its epoch, on the curve's passport. Both count epochs from 1: a model's
 * epoch is the epochs trained, a curve point's the epochs completed. Null: never measured.
 */
async function modelMeasurement(
  db: Db,
  model: Model,
  run: Run | null,
): Promise<Measurement | null> {
  const own = model.metrics;
  if (own.passport && own.fid !== undefined)
    return measurementOf({ ...own, fid: own.fid, passport: own.passport });
  const curve = run && runCurve(run);
  if (!curve || !model.runId) return null;
  const [point] = await db
    .select()
    .from(runMetrics)
    .where(
      and(
        eq(runMetrics.runId, model.runId),
        eq(runMetrics.epoch, model.epoch),
        isNotNull(runMetrics.fid),
      ),
    )
    .orderBy(desc(runMetrics.step))
    .limit(1);
  if (point?.fid == null) return null;
  return measurementOf({ ...point, fid: point.fid, passport: curve.passport });
}

/** Each model with its machine measurement, its image count and mean vote. */
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
    const v = voteOf.get(model.id);
    out.push({
      model,
      measurement: await modelMeasurement(db, model, run),
      images: imageCounts.get(model.id) ?? 0,
      voters: v?.contributors ?? 0,
      meanVote: v ? v.meanVote : null,
    });
  }
  return out;
}

/**
 * Tallies grouped by model and network: a model's networks are those with counted judgements of
 * it, and each brings the real-photo tallies of the same contributors (a model's control is its
 * own contributors' answers on photographs, never everyone's).
 */
export function networksByModel(rows: Tally[]): Map<string, NetworkTally[]> {
  const realOf = new Map<string, Tally>();
  for (const r of rows) if (r.subject === REAL_SUBJECT) realOf.set(r.contributor, r);
  const byModel = new Map<string, Map<string, NetworkTally>>();
  for (const r of rows) {
    if (r.subject === REAL_SUBJECT || r.judgements <= 0) continue;
    let nets = byModel.get(r.subject);
    if (!nets) byModel.set(r.subject, (nets = new Map<string, NetworkTally>()));
    let u = nets.get(r.network);
    if (!u) {
      u = { network: r.network, judgements: 0, fooled: 0, realJudgements: 0, realErrors: 0 };
      nets.set(r.network, u);
    }
    const real = realOf.get(r.contributor);
    u.judgements += r.judgements;
    u.fooled += r.wrong;
    u.realJudgements += real?.judgements ?? 0;
    u.realErrors += real?.wrong ?? 0;
  }
  return new Map([...byModel].map(([m, nets]) => [m, [...nets.values()]]));
}

export const isRanked = (s: HumanScore) =>
  s.hype !== null && s.judgements >= MIN_JUDGEMENTS_TO_RANK && s.networks >= MIN_NETWORKS_TO_RANK;

/**
 * The tallies and the models' machine numbers change slowly and are read on every leaderboard,
 * model page and trial, so one process reads them at most every `maxAgeMs` (per database), never
 * re-aggregating the trials table; an answer counted here refreshes them at once.
 */
interface Snapshot {
  at: number;
  /**
   * tallies, quality, scores: each read on first use (a trial's draw needs the tallies only, not
   * the models' FIDs; the scores' bootstrap is the costly part).
   */
  parts: Map<'tallies' | 'quality' | 'scores', Promise<unknown>>;
}
const snapshots = new WeakMap<Db, Snapshot>();

/** `read()` once per snapshot; a failed read is dropped, so the next request tries again. */
function cached<T>(
  db: Db,
  maxAgeMs: number | undefined,
  key: 'tallies' | 'quality' | 'scores',
  read: () => Promise<T>,
): Promise<T> {
  const now = Date.now();
  let s = snapshots.get(db);
  if (!s || now - s.at >= (maxAgeMs ?? SCORE_CACHE_MS))
    snapshots.set(db, (s = { at: now, parts: new Map() }));
  const held = s.parts.get(key) as Promise<T> | undefined;
  if (held) return held;
  const parts = s.parts;
  const p = read();
  parts.set(key, p);
  p.catch(() => {
    if (parts.get(key) === p) parts.delete(key);
  });
  return p;
}

const talliesOf = (db: Db, maxAgeMs?: number) =>
  cached(db, maxAgeMs, 'tallies', () => judgeTallyRows(db));

/** After an answer this process counted: the tallies (and the scores from them) are read again. */
export const refreshScores = (db: Db) => {
  const parts = snapshots.get(db)?.parts;
  parts?.delete('tallies');
  parts?.delete('scores');
};

/** Every model's human numbers, keyed by model id (models never judged are absent). */
export function humanScores(db: Db, maxAgeMs?: number): Promise<Map<string, HumanScore>> {
  return cached(db, maxAgeMs, 'scores', async () => {
    const units = networksByModel(await talliesOf(db, maxAgeMs));
    return new Map([...units].map(([m, u]) => [m, humanScore(m, u)]));
  });
}

/** Counted judgements per model (what the trial draw weighs by), without the intervals. */
export async function answeredByModel(db: Db): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const r of await talliesOf(db))
    if (r.subject !== REAL_SUBJECT) out.set(r.subject, (out.get(r.subject) ?? 0) + r.judgements);
  return out;
}

/** Every model with its human numbers, FID and mean vote: ranked ones by HYPE∞, best first. */
export async function leaderboard(db: Db, maxAgeMs?: number) {
  const quality = cached(db, maxAgeMs, 'quality', () => modelsWithQuality(db));
  const [scores, models] = await Promise.all([humanScores(db, maxAgeMs), quality]);
  const rows = models.map((q) => {
    const human = scores.get(q.model.id) ?? humanScore(q.model.id);
    return {
      ...human,
      name: q.model.name,
      epoch: q.model.epoch,
      runId: q.model.runId,
      ranked: isRanked(human),
      /** The machine numbers, with the passport they were measured on (null: none). */
      measurement: q.measurement,
      conditional: q.model.classes !== null,
      images: q.images,
      voters: q.voters,
      meanVote: q.meanVote,
    };
  });
  rows.sort((a, b) =>
    a.ranked !== b.ranked
      ? Number(b.ranked) - Number(a.ranked)
      : a.ranked
        ? (b.hype ?? 0) - (a.hype ?? 0) || b.judgements - a.judgements
        : b.judgements - a.judgements,
  );
  let rank = 0;
  return rows.map((r) => ({ ...r, rank: r.ranked ? ++rank : null }));
}

export function leaderboardRoutes(core: Core): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/leaderboard',
      summary:
        "Every model: its human numbers (HYPE∞ with intervals, networks, the largest network's share), FID and mean vote, with the ranking rules.",
      async handle() {
        return json({
          items: await leaderboard(core.db, core.scoreCacheMs),
          minJudgements: MIN_JUDGEMENTS_TO_RANK,
          minNetworks: MIN_NETWORKS_TO_RANK,
          networkWeightShare: NETWORK_WEIGHT_SHARE,
          judgementsPerContributor: JUDGEMENTS_PER_CONTRIBUTOR,
        });
      },
    },
    {
      method: 'GET',
      path: '/api/models/:id/human',
      summary: "One model's human numbers (HYPE∞).",
      async handle(_request, { id = '' }) {
        const model = Id.safeParse(id).success ? await getModel(core.db, id) : undefined;
        if (!model) throw new HttpError(404, 'not_found', 'no such model');
        return json(
          (await humanScores(core.db, core.scoreCacheMs)).get(model.id) ?? humanScore(model.id),
        );
      },
    },
  ];
}
