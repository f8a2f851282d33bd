/**
 * A model's human numbers from its networks' tallies, with no I/O: fool rate, the real-photo
 * control and HYPE∞ (Zhou et al. 2019), each network weighted by its counted judgements up to
 * NETWORK_WEIGHT_SHARE of the total, with 95% intervals from a percentile bootstrap over
 * networks (Efron 1979). ./leaderboard reads the tallies and ranks.
 */

import { createRng } from '@ganstudio/models/latent';

import { BOOTSTRAP_RESAMPLES, NETWORK_WEIGHT_SHARE } from '../policy';

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
    // Seeded by the model, so its interval is the same on every request.
    const random = createRng(hashString(modelId));
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
