/**
 * "Real or generated?": HYPE∞ (Zhou et al., NeurIPS 2019, "HYPE: A Benchmark for Human
 * eYe Perceptual Evaluation of Generative Models"). A visitor sees one image at a time with no
 * time limit and says real or generated; half the trials show a real CIFAR-10 test image, half a
 * sample of a model drawn at random (weighted towards the least judged) at a random seed.
 *
 * Nothing tells the truth before the answer: the image URL is the trial's opaque id; both kinds
 * are PNGs from one encoder with deflate level 0, so every image has the same byte count; headers
 * are identical; and both kinds do the same work (a model is picked and a sample rendered for real
 * trials too, then discarded), so the response time does not give it away either.
 *
 * A human score is a claim about many people, so it is computed from contributors, not requests.
 * The real set is public, so a script can always know the truth of a trial; what it cannot do is
 * weigh more than one contributor. A contributor is a client address (IPv4, or an IPv6 /64) with
 * all its identities; its network is the IPv6 /48 around it (IPv4: the address). Each contributor
 * adds at most JUDGEMENTS_PER_CONTRIBUTOR counted answers per model (and as many on real photos,
 * its control), each network at most NETWORK_FACTOR times that; the database keeps those tallies
 * as answers arrive (judge_answer), and every number here is computed from them with the network
 * as the unit: the 95% intervals are a bootstrap over networks (the paper's bootstrap over
 * evaluators), and a model is ranked only with judgements from MIN_CONTRIBUTORS_TO_RANK networks.
 */
import { decodePng, encodePng } from '@ganstudio/models/image';
import type { Db } from '@ganstudio/db/client';
import {
  answerTrial,
  countRealImages,
  createTrial,
  deleteOldTrials,
  judgeableModels,
  judgeTallyRows,
  modelsWithQuality,
  openTrials,
  realImageAt,
  trialImage,
  type Tally,
  type Truth,
} from '@ganstudio/db/judge';
import { REAL_SUBJECT, type Model } from '@ganstudio/db/schema';
import { NETWORK_FACTOR } from './rate-limit';
import type { Renderer } from './render';

/** A trial not answered within this is gone (410). */
export const TRIAL_TTL_MS = 10 * 60_000;
/** Expired trials (answered or not) are deleted this long after expiry; their tallies stay. */
export const TRIAL_KEEP_MS = 60 * 60_000;
/** Trials one identity may hold open (unanswered, unexpired): the game keeps one ahead. */
export const OPEN_TRIALS_PER_VISITOR = 4;
/** Counted answers one contributor adds per model, and on real photographs. */
export const JUDGEMENTS_PER_CONTRIBUTOR = 20;
/** Fewer judgements than this, or judgements from fewer networks, and a model is listed, not ranked. */
export const MIN_JUDGEMENTS_TO_RANK = 30;
export const MIN_CONTRIBUTORS_TO_RANK = 10;
/** Bootstrap resamples for the 95% intervals. */
export const BOOTSTRAP_RESAMPLES = 2000;

export const TALLY_CAPS = {
  perContributor: JUDGEMENTS_PER_CONTRIBUTOR,
  perNetwork: JUDGEMENTS_PER_CONTRIBUTOR * NETWORK_FACTOR,
};

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
  contributors: number;
  /** Share of this model's samples judged real. */
  foolRate: number | null;
  /** 95% bootstrap interval of foolRate, resampling networks. */
  ci95: [number, number] | null;
  /** Its contributors' counted answers on real photographs: the control. */
  realJudgements: number;
  /** Share of those real photographs judged generated. */
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
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  return [at(0.025), at(0.975)];
}

const rates = (units: NetworkTally[]) => {
  let n = 0;
  let f = 0;
  let rn = 0;
  let re = 0;
  for (const u of units) {
    n += u.judgements;
    f += u.fooled;
    rn += u.realJudgements;
    re += u.realErrors;
  }
  const fool = n ? f / n : null;
  const real = rn ? re / rn : null;
  return { n, f, rn, fool, real, hype: fool !== null && real !== null ? (fool + real) / 2 : null };
};

/**
 * A model's human numbers from its networks' tallies. Pooling the tallies is the same as weighting
 * each network by its counted judgements, which the caps bound; the intervals resample networks
 * with replacement (percentile bootstrap, Efron 1979), so a score that rests on few networks gets
 * the wide interval it deserves.
 */
export function humanScore(
  modelId: string,
  units: NetworkTally[] = [],
  resamples = BOOTSTRAP_RESAMPLES,
): HumanScore {
  const point = rates(units);
  let ci95: [number, number] | null = null;
  let hypeCi95: [number, number] | null = null;
  if (units.length && resamples > 0) {
    const random = mulberry32(hashString(modelId));
    const fools: number[] = [];
    const hypes: number[] = [];
    const draw: NetworkTally[] = new Array<NetworkTally>(units.length);
    for (let b = 0; b < resamples; b++) {
      for (let i = 0; i < units.length; i++) draw[i] = units[Math.floor(random() * units.length)]!;
      const r = rates(draw);
      if (r.fool !== null) fools.push(r.fool);
      if (r.hype !== null) hypes.push(r.hype);
    }
    ci95 = percentileInterval(fools.sort((a, b) => a - b));
    hypeCi95 = point.hype === null ? null : percentileInterval(hypes.sort((a, b) => a - b));
  }
  return {
    modelId,
    judgements: point.n,
    fooled: point.f,
    contributors: units.length,
    foolRate: point.fool,
    ci95,
    realJudgements: point.rn,
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
    if (!nets) byModel.set(r.subject, (nets = new Map()));
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
  s.hype !== null &&
  s.judgements >= MIN_JUDGEMENTS_TO_RANK &&
  s.contributors >= MIN_CONTRIBUTORS_TO_RANK;

/**
 * The tallies and the models' machine numbers change slowly and are read on every leaderboard,
 * model page and trial, so one process reads them at most every `maxAgeMs` (per database), never
 * re-aggregating the trials table; an answer counted here refreshes them at once.
 */
interface Snapshot {
  at: number;
  tallies: Promise<Tally[]>;
  quality: Promise<Awaited<ReturnType<typeof modelsWithQuality>>>;
  /** Computed from `tallies` on first use (the bootstrap is the costly part). */
  scores?: Promise<Map<string, HumanScore>>;
}
const snapshots = new WeakMap<Db, Snapshot>();
export const SCORE_CACHE_MS = 5_000;

function snapshot(db: Db, maxAgeMs = SCORE_CACHE_MS): Snapshot {
  const now = Date.now();
  let s = snapshots.get(db);
  if (!s || now - s.at >= maxAgeMs) {
    s = { at: now, tallies: judgeTallyRows(db), quality: modelsWithQuality(db) };
    // A failed read is not kept: the next request tries again.
    const forget = () => {
      if (snapshots.get(db) === s) snapshots.delete(db);
    };
    s.tallies.catch(forget);
    s.quality.catch(forget);
    snapshots.set(db, s);
  }
  return s;
}

/** Drops the cached scores of `db` (after an answer this process counted). */
export const refreshScores = (db: Db) => snapshots.delete(db);

/** Every model's human numbers, keyed by model id (models never judged are absent). */
export function humanScores(db: Db, maxAgeMs?: number): Promise<Map<string, HumanScore>> {
  const s = snapshot(db, maxAgeMs);
  s.scores ??= s.tallies.then(
    (rows) => new Map([...networksByModel(rows)].map(([m, u]) => [m, humanScore(m, u)])),
  );
  return s.scores;
}

/** Counted judgements per model (what the trial draw weighs by), without the intervals. */
async function answeredByModel(db: Db): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const r of await snapshot(db).tallies)
    if (r.subject !== REAL_SUBJECT) out.set(r.subject, (out.get(r.subject) ?? 0) + r.judgements);
  return out;
}

/** Every model with its human numbers, FID and mean vote: ranked ones by HYPE∞, best first. */
export async function leaderboard(db: Db, maxAgeMs?: number) {
  const s = snapshot(db, maxAgeMs);
  const [scores, quality] = await Promise.all([humanScores(db, maxAgeMs), s.quality]);
  const rows = quality.map((q) => {
    const human = scores.get(q.model.id) ?? humanScore(q.model.id);
    return {
      ...human,
      name: q.model.name,
      epoch: q.model.epoch,
      runId: q.model.runId,
      ranked: isRanked(human),
      fid: q.fid,
      isScore: q.isScore,
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
        ? b.hype! - a.hype! || b.judgements - a.judgements
        : b.judgements - a.judgements,
  );
  let rank = 0;
  return rows.map((r) => ({ ...r, rank: r.ranked ? ++rank : null }));
}

/**
 * Which model a generated trial shows: half the probability spread evenly over the models, half
 * in proportion to 1 / (MIN_JUDGEMENTS_TO_RANK + answered judgements), so the least judged are
 * shown most, every model keeps at least half its even share, and a new model does not take every
 * trial. `u` is uniform in [0, 1); the draw is never the same twice by construction.
 */
export function pickModel<M extends { id: string }>(
  candidates: M[],
  answered: (modelId: string) => number,
  u: number,
): M | undefined {
  if (!candidates.length) return undefined;
  const need = candidates.map((m) => 1 / (MIN_JUDGEMENTS_TO_RANK + Math.max(0, answered(m.id))));
  const total = need.reduce((a, b) => a + b, 0);
  let left = u;
  for (let i = 0; i < candidates.length; i++) {
    left -= 0.5 / candidates.length + (0.5 * need[i]!) / total;
    if (left < 0) return candidates[i];
  }
  return candidates[candidates.length - 1];
}

/** A uniformly random 32-bit value from Web Crypto. */
const randomU32 = () => crypto.getRandomValues(new Uint32Array(1))[0]!;

export type TrialStart =
  | { ok: true; trialId: string }
  | { ok: false; reason: 'no_models' | 'no_real_images' | 'too_many_open' };

/** Who opened a trial: keyed hashes of its contributor and network (see the module comment). */
export interface TrialOrigin {
  contributor: string;
  network: string;
}

/** Expired trials are swept at most this often per process, a bounded batch each time. */
const SWEEP_EVERY_MS = 60_000;
const lastSweep = new WeakMap<Db, number>();

/** Deletes trials kept past TRIAL_KEEP_MS, at most once a minute per process and database. */
export async function sweepTrials(db: Db, now: number, force = false): Promise<number> {
  if (!force && now - (lastSweep.get(db) ?? 0) < SWEEP_EVERY_MS) return 0;
  lastSweep.set(db, now);
  return deleteOldTrials(db, new Date(now - TRIAL_TTL_MS - TRIAL_KEEP_MS));
}

/** Creates one trial for `visitorId`: a fair coin picks real or generated, server-side. */
export async function startTrial(
  db: Db,
  renderer: Renderer,
  visitorId: string,
  origin: TrialOrigin,
  newId: () => string,
  now: number,
): Promise<TrialStart> {
  if ((await openTrials(db, visitorId)) >= OPEN_TRIALS_PER_VISITOR)
    return { ok: false, reason: 'too_many_open' };
  const [candidates, realCount, answered] = await Promise.all([
    judgeableModels(db),
    countRealImages(db),
    answeredByModel(db),
  ]);
  const model: Model | undefined = pickModel(
    candidates,
    (id) => answered.get(id) ?? 0,
    randomU32() / 2 ** 32,
  );
  if (!model) return { ok: false, reason: 'no_models' };
  if (!realCount) return { ok: false, reason: 'no_real_images' };
  const truth: Truth = randomU32() & 1 ? 'real' : 'generated';
  const seed = randomU32();
  // Both kinds render and read a real image, so neither answers faster than the other.
  const [sample, real] = await Promise.all([
    renderer.render(model, seed),
    realImageAt(db, randomU32() % realCount),
  ]);
  if (!real) return { ok: false, reason: 'no_real_images' };
  const png = truth === 'real' ? real.png : encodePng(decodePng(sample), { level: 0 });
  const trialId = newId();
  await createTrial(db, {
    id: trialId,
    visitorId,
    kind: truth,
    ...(truth === 'real' ? { realImageId: real.id } : { modelId: model.id, seed }),
    png,
    expiresAt: new Date(now + TRIAL_TTL_MS),
    contributor: origin.contributor,
    network: origin.network,
  });
  await sweepTrials(db, now);
  return { ok: true, trialId };
}

/** Records an answer within the tally caps; a counted one refreshes this process's scores. */
export async function answer(db: Db, trialId: string, visitorId: string, value: Truth) {
  const r = await answerTrial(db, trialId, visitorId, value, TALLY_CAPS);
  if (r.ok && r.counted) refreshScores(db);
  return r;
}

export { trialImage };
