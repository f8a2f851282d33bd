/**
 * The leaderboard: every model's human numbers (HYPE∞ from the judge game, computed from the
 * contributors' capped tallies; see ./judge), its machine numbers (FID/IS of its run at its epoch)
 * and the mean vote of its images, each counting contributors rather than requests.
 */
import { and, desc, eq, isNotNull, sql } from 'drizzle-orm';

import type { Db } from '@ganstudio/db/client';
import {
  images,
  judgeTallies,
  models,
  REAL_SUBJECT,
  runMetrics,
  runs,
  votes,
} from '@ganstudio/db/schema';

import { SCORE_CACHE_MS, type Core, type Route } from '../core';
import { HttpError, Id, json } from '../http';
import { getModel } from './models';
import { fidProtocolOf, runPassport } from './runs';

const rowsOf = <T>(result: unknown) => (result as { rows: T[] }).rows;

/** Counted answers one contributor adds per model, and on real photographs, within TALLY_WINDOW. */
export const JUDGEMENTS_PER_CONTRIBUTOR = 20;
/**
 * How answers age: tallies are kept per week, and every score and every cap reads the last 13
 * weeks only, so a burst of answers moves a model for at most a quarter and then drops out.
 */
export const TALLY_WINDOW = { periodS: 7 * 86_400, periods: 13 };
/**
 * The most of a model's score one network can weigh: networks weigh by their counted judgements,
 * each capped at this share of the total (water-filling), so a network moves a ranked model's
 * fool rate by at most this share of the distance to its own rate: 5 points at 0% or 100%.
 */
export const NETWORK_WEIGHT_SHARE = 0.05;
/**
 * A model is listed, not ranked, until it has MIN_JUDGEMENTS_TO_RANK judgements from
 * MIN_NETWORKS_TO_RANK networks: the fewest at which no one weighs more than NETWORK_WEIGHT_SHARE.
 * There is deliberately no gate on one network's raw share of the judgements: a network may add
 * 40, so such a gate would let it un-rank any model with fewer than 400 by answering 40 times.
 */
export const MIN_JUDGEMENTS_TO_RANK = 30;
export const MIN_NETWORKS_TO_RANK = Math.round(1 / NETWORK_WEIGHT_SHARE);
/** Bootstrap resamples for the 95% intervals. */
export const BOOTSTRAP_RESAMPLES = 2000;

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
 * Neutral contributors (mean vote 0) every model's mean vote starts with: one contributor alone
 * moves it by at most 2 / (1 + VOTE_PRIOR_CONTRIBUTORS), whatever it publishes or votes.
 */
export const VOTE_PRIOR_CONTRIBUTORS = 3;

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
    // The model's own measurement (its quantized weights) when it has one, else its run's curve
    // point at its epoch. Both count from 1: a model's epoch is the epochs trained, an FID
    // point's the epochs completed.
    const own = model.metrics.passport ? model.metrics : undefined;
    const [fid] = own
      ? [
          {
            fid: own.fid ?? null,
            isScore: own.is_mean ?? null,
            classFidelity: own.class_fidelity ?? null,
            kid: own.kid ?? null,
            kidStd: own.kid_std ?? null,
            precision: own.precision ?? null,
            recall: own.recall ?? null,
            copies: own.copies ?? null,
          },
        ]
      : model.runId
        ? await db
            .select({
              fid: runMetrics.fid,
              isScore: runMetrics.isScore,
              classFidelity: runMetrics.classFidelity,
              kid: runMetrics.kid,
              kidStd: runMetrics.kidStd,
              precision: runMetrics.precision,
              recall: runMetrics.recall,
              copies: runMetrics.copies,
            })
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
    const protocol = run ? fidProtocolOf(run) : undefined;
    const v = voteOf.get(model.id);
    const passport = own?.passport ?? (run && runPassport(run)) ?? null;
    out.push({
      model,
      fid: fid?.fid ?? null,
      isScore: fid?.isScore ?? null,
      classFidelity: fid?.classFidelity ?? null,
      kid: fid?.kid ?? null,
      kidStd: fid?.kidStd ?? null,
      precision: fid?.precision ?? null,
      recall: fid?.recall ?? null,
      copies: fid?.copies ?? null,
      /** What every machine number of this row was measured with (null: none measured). */
      passport,
      featureNetwork: passport?.feature_network ?? protocol?.feature_network ?? null,
      fidSamples: passport?.samples ?? protocol?.samples ?? null,
      images: imageCounts.get(model.id) ?? 0,
      voters: v?.contributors ?? 0,
      meanVote: v ? v.meanVote : null,
    });
  }
  return out;
}

/** What one network (the unit of every score) added to one model, and on real photographs. */
export interface NetworkTally {
  network: string;
  judgements: number;
  fooled: number;
  realJudgements: number;
  realErrors: number;
}

export interface HumanScore {
  modelId: string;
  /** Counted judgements of this model's samples, and how many were judged real. */
  judgements: number;
  fooled: number;
  /** Distinct networks (IPv4 addresses, IPv6 /48s) behind those judgements. */
  networks: number;
  /**
   * The largest share of the fool rate's weight one network holds (null: none yet): at most
   * NETWORK_WEIGHT_SHARE from MIN_NETWORKS_TO_RANK networks on, 1 / networks below that.
   */
  largestShare: number | null;
  /** Share of this model's samples judged real, networks weighted by cappedWeights. */
  foolRate: number | null;
  /** 95% bootstrap interval of foolRate, resampling networks. */
  ci95: [number, number] | null;
  /** Its contributors' counted answers on real photographs: the control. */
  realJudgements: number;
  /** Share of those real photographs judged generated, weighted alike. */
  realErrorRate: number | null;
  /**
   * HYPE∞: the error rate over real and generated images together, each kind weighted equally
   * (the paper shows equal numbers of each, where this is its pooled error): 50% means people
   * cannot tell the model's samples from real images.
   */
  hype: number | null;
  /** 95% bootstrap interval of HYPE∞, resampling networks. */
  hypeCi95: [number, number] | null;
}

/** mulberry32: a small seeded generator, so a model's interval is the same on every request. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hashString = (s: string) => {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
};

/** Nearest-rank percentile interval [2.5%, 97.5%] of sorted values. */
function percentileInterval(sorted: number[]): [number, number] | null {
  if (!sorted.length) return null;
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
  return [at(0.025), at(0.975)];
}

/**
 * The cap c of cappedWeights, for units of counts `n` (ascending, all positive) taken `q[j]` times
 * each (a bootstrap resample; 1 for the point estimate): one pass from the largest down, no sort
 * per resample. Returns the smallest count present where only equal weights fit.
 */
function capFor(n: Float64Array, q: Float64Array, share: number): number {
  let k = 0;
  let total = 0;
  let least = Infinity;
  for (let j = 0; j < n.length; j++) {
    const qj = q[j] ?? 0;
    if (qj) {
      k += qj;
      total += qj * (n[j] ?? 0);
      least = Math.min(least, n[j] ?? 0);
    }
  }
  if (k * share <= 1) return least;
  const fits = (a: number, b: number) => a <= b * (1 + 1e-12);
  const live = (from: number) => {
    while (from >= 0 && !q[from]) from--;
    return from;
  };
  let j = live(n.length - 1);
  if (fits(n[j] ?? 0, share * total)) return Infinity;
  // Cap the largest units one by one: c = share · (Σ of the rest) / (1 − share · capped), valid
  // once it lies between the largest uncapped count and the smallest capped one.
  let capped = 0;
  let below = total;
  while (j >= 0) {
    const nj = n[j] ?? 0;
    capped += q[j] ?? 0;
    below -= (q[j] ?? 0) * nj;
    if (share * capped >= 1) break;
    const c = (share * below) / (1 - share * capped);
    const next = live(j - 1);
    if (fits(next >= 0 ? (n[next] ?? 0) : 0, c) && fits(c, nj)) return c;
    j = next;
  }
  return least;
}

/**
 * A rate over units weighted as cappedWeights weighs them, each unit taken mult[i] times: the
 * units with a positive count, sorted once, then one pass per call.
 */
function rateOf(counts: readonly number[], hits: readonly number[]) {
  const order = counts
    .map((_, i) => i)
    .filter((i) => (counts[i] ?? 0) > 0)
    .sort((a, b) => (counts[a] ?? 0) - (counts[b] ?? 0));
  const n = Float64Array.from(order, (i) => counts[i] ?? 0);
  const rate = Float64Array.from(order, (i) => (hits[i] ?? 0) / (counts[i] ?? 1));
  const q = new Float64Array(order.length);
  return (mult: ArrayLike<number>, share = NETWORK_WEIGHT_SHARE) => {
    for (let j = 0; j < order.length; j++) q[j] = mult[order[j] ?? -1] ?? 0;
    const cap = capFor(n, q, share);
    let sum = 0;
    let total = 0;
    for (let j = 0; j < order.length; j++) {
      const w = (q[j] ?? 0) * Math.min(n[j] ?? 0, cap);
      sum += w * (rate[j] ?? 0);
      total += w;
    }
    return { rate: total ? sum / total : null, cap };
  };
}

/**
 * Each unit's weight: its count n_i, capped at c where c = share · Σ min(n_j, c), so no unit holds
 * more than `share` of the total weight (water-filling); units under the cap weigh exactly their
 * counts, so with no large unit the weighted rate is the pooled one. With 1/share units or fewer
 * no such cap exists short of equal weights, which is what they get. Units with n = 0 weigh 0.
 */
export function cappedWeights(counts: readonly number[], share: number): number[] {
  const { cap } = rateOf(counts, counts)(new Array<number>(counts.length).fill(1), share);
  return counts.map((n) => (n > 0 ? Math.min(n, cap) : 0));
}

/**
 * A model's human numbers from its networks' tallies, each network weighted by its counted
 * judgements up to NETWORK_WEIGHT_SHARE of the total (cappedWeights); the intervals resample
 * networks with replacement (percentile bootstrap, Efron 1979), so a score that rests on few
 * networks gets the wide interval it deserves.
 */
export function humanScore(
  modelId: string,
  units: NetworkTally[] = [],
  resamples = BOOTSTRAP_RESAMPLES,
): HumanScore {
  const foolOf = rateOf(
    units.map((u) => u.judgements),
    units.map((u) => u.fooled),
  );
  const realOf = rateOf(
    units.map((u) => u.realJudgements),
    units.map((u) => u.realErrors),
  );
  const rates = (mult: ArrayLike<number>) => {
    const fool = foolOf(mult).rate;
    const real = realOf(mult).rate;
    return { fool, real, hype: fool !== null && real !== null ? (fool + real) / 2 : null };
  };
  const point = rates(new Array<number>(units.length).fill(1));
  let ci95: [number, number] | null = null;
  let hypeCi95: [number, number] | null = null;
  if (units.length && resamples > 0) {
    const random = mulberry32(hashString(modelId));
    const fools: number[] = [];
    const hypes: number[] = [];
    const mult = new Int32Array(units.length);
    for (let b = 0; b < resamples; b++) {
      mult.fill(0);
      for (let i = 0; i < units.length; i++) {
        const pick = Math.floor(random() * units.length);
        mult[pick] = (mult[pick] ?? 0) + 1;
      }
      const r = rates(mult);
      if (r.fool !== null) fools.push(r.fool);
      if (r.hype !== null) hypes.push(r.hype);
    }
    ci95 = percentileInterval(fools.sort((a, b) => a - b));
    hypeCi95 = point.hype === null ? null : percentileInterval(hypes.sort((a, b) => a - b));
  }
  const sum = (pick: (u: NetworkTally) => number) => units.reduce((a, u) => a + pick(u), 0);
  const judgements = sum((u) => u.judgements);
  const weights = cappedWeights(
    units.map((u) => u.judgements),
    NETWORK_WEIGHT_SHARE,
  );
  const weight = weights.reduce((a, b) => a + b, 0);
  return {
    modelId,
    judgements,
    fooled: sum((u) => u.fooled),
    networks: units.length,
    largestShare: weight ? Math.max(...weights) / weight : null,
    foolRate: point.fool,
    ci95,
    realJudgements: sum((u) => u.realJudgements),
    realErrorRate: point.real,
    hype: point.hype,
    hypeCi95,
  };
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
      fid: q.fid,
      isScore: q.isScore,
      classFidelity: q.classFidelity,
      kid: q.kid,
      kidStd: q.kidStd,
      precision: q.precision,
      recall: q.recall,
      copies: q.copies,
      passport: q.passport,
      conditional: q.model.classes !== null,
      featureNetwork: q.featureNetwork,
      fidSamples: q.fidSamples,
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
