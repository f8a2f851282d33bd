/**
 * Measures on feature rows beside FID, which mixes quality and diversity into one biased number:
 * - KID (Bińkowski et al. 2018, "Demystifying MMD GANs", arXiv:1801.01401, §4): the unbiased
 *   MMD² between real and generated features under the cubic polynomial kernel
 *   k(x, y) = (xᵀy / d + 1)³, averaged over random subsets and reported with its spread. Unbiased,
 *   so small sample counts compare, and two draws of one distribution average to ~0.
 * - Precision and recall (Kynkäänniemi et al. 2019, "Improved Precision and Recall Metric for
 *   Assessing Generative Models", arXiv:1904.06991, §2): each set's manifold is the union of
 *   balls reaching each point's k-th nearest neighbour (k = 3) in its own set; precision is the
 *   share of generated points inside the real manifold, recall the share of real points inside
 *   the generated one.
 * - Copies: a generated sample whose nearest training feature is closer than all but 1% of
 *   held-out real images are to the training set is counted as a copy.
 *
 * Features are rows of a Float32Array, [n, d] row-major. Distances are computed with backend
 * matmuls in row blocks, so n = 10,000 never holds an n×n matrix.
 */
import * as tf from '@tensorflow/tfjs-core';

import { at } from './arrays';
import { frechetDistance, MomentAccumulator, type FeatureStats } from './fid';
import { createRng } from './latent';

export interface FeatureRows {
  data: Float32Array;
  /** Rows n; the dimension is data.length / n. */
  n: number;
}

const dimOf = (f: FeatureRows) => f.data.length / f.n;

/** Rows of `f` at `idx` as a tensor [idx.length, d]; the caller disposes it. */
function rows(f: FeatureRows, idx: ArrayLike<number>): tf.Tensor2D {
  const d = dimOf(f);
  const out = new Float32Array(idx.length * d);
  for (let i = 0; i < idx.length; i++) {
    const r = at(idx, i);
    out.set(f.data.subarray(r * d, (r + 1) * d), i * d);
  }
  return tf.tensor2d(out, [idx.length, d]);
}

const all = (n: number) => Uint32Array.from({ length: n }, (_, i) => i);

/** `size` distinct indices of [0, n), drawn with a seeded partial Fisher–Yates shuffle. */
function subset(n: number, size: number, rng: () => number): Uint32Array {
  const p = all(n);
  for (let i = 0; i < size; i++) {
    const j = i + Math.floor(rng() * (n - i));
    const t = at(p, i);
    p[i] = at(p, j);
    p[j] = t;
  }
  return p.subarray(0, size);
}

/** Unbiased MMD² of two feature sets [m, d] and [n, d] under (xᵀy / d + 1)³. */
export async function polynomialMmd2(x: tf.Tensor2D, y: tf.Tensor2D): Promise<number> {
  const [m, d] = x.shape;
  const n = y.shape[0];
  const v = tf.tidy(() => {
    const k = (a: tf.Tensor2D, b: tf.Tensor2D) =>
      tf.pow(tf.add(tf.div(tf.matMul(a, b, false, true), d), 1), 3); // → [rows a, rows b]
    // Σ_{i≠j}: the full sum less the diagonal k(a_i, a_i) = (‖a_i‖² / d + 1)³, from the norms.
    const offDiagonal = (a: tf.Tensor2D) =>
      tf.sub(tf.sum(k(a, a)), tf.sum(tf.pow(tf.add(tf.div(tf.sum(tf.square(a), 1), d), 1), 3)));
    const xx = tf.div(offDiagonal(x), m * (m - 1));
    const yy = tf.div(offDiagonal(y), n * (n - 1));
    const xy = tf.div(tf.sum(k(x, y)), m * n);
    return tf.sub(tf.add(xx, yy), tf.mul(xy, 2));
  });
  try {
    return (await v.data())[0] ?? NaN;
  } finally {
    v.dispose();
  }
}

export interface KidResult {
  kid: number;
  kid_std: number;
  subsets: number;
  subset_size: number;
}

/**
 * KID: the mean and standard deviation of the unbiased MMD² over `subsets` random subsets of
 * `subsetSize` rows of each set (torch-fidelity and stylegan2-ada: 100 subsets of 1,000; sets of
 * fewer than 2,000 rows use subsets of half their rows, so the spread stays a spread), seeded so a
 * number repeats.
 */
export async function kernelInceptionDistance(
  real: FeatureRows,
  fake: FeatureRows,
  { subsets = 100, subsetSize = 1000, seed = 1 } = {},
): Promise<KidResult> {
  if (dimOf(real) !== dimOf(fake))
    throw new RangeError(`feature dims differ: ${dimOf(real)} and ${dimOf(fake)}`);
  // At most half of each set: subsets of all the rows would all be the same set, with no spread.
  const size = Math.min(subsetSize, Math.floor(real.n / 2), Math.floor(fake.n / 2));
  if (size < 2)
    throw new RangeError(`KID needs at least 4 rows in each set, got ${Math.min(real.n, fake.n)}`);
  const rng = createRng(seed);
  const values: number[] = [];
  for (let s = 0; s < subsets; s++) {
    const x = rows(real, subset(real.n, size, rng));
    const y = rows(fake, subset(fake.n, size, rng));
    try {
      values.push(await polynomialMmd2(x, y));
    } finally {
      tf.dispose([x, y]);
    }
  }
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
  return { kid: mean, kid_std: Math.sqrt(variance), subsets, subset_size: size };
}

/** Rows processed at once in a distance pass: a [BLOCK, n] block of squared distances. */
const BLOCK = 500;

/**
 * For each row of `a`, the squared Euclidean distances to every row of `b` in blocks:
 * `visit(firstRow, block)` receives [rows, b.n] row-major (‖a‖² + ‖b‖² − 2abᵀ, clamped at 0).
 */
async function distanceBlocks(
  a: FeatureRows,
  b: FeatureRows,
  visit: (first: number, block: Float32Array, rows: number) => void,
): Promise<void> {
  const bt = rows(b, all(b.n));
  const bNorms = tf.tidy(() => tf.sum(tf.square(bt), 1)); // → [b.n]
  try {
    for (let first = 0; first < a.n; first += BLOCK) {
      const count = Math.min(BLOCK, a.n - first);
      const d2 = tf.tidy(() => {
        const ab = rows(
          a,
          Uint32Array.from({ length: count }, (_, i) => first + i),
        );
        const aNorms = tf.sum(tf.square(ab), 1, true); // → [count, 1]
        return tf.relu(tf.sub(tf.add(aNorms, bNorms), tf.mul(tf.matMul(ab, bt, false, true), 2)));
      });
      try {
        visit(first, (await d2.data()) as Float32Array, count);
      } finally {
        d2.dispose();
      }
    }
  } finally {
    tf.dispose([bt, bNorms]);
  }
}

/** The k-th smallest of `values` (k from 1), `skip` entries left out (a point's own distance). */
function kthSmallest(values: Float32Array, k: number, skip = -1): number {
  const best = new Array<number>(k).fill(Infinity); // ascending
  for (let j = 0; j < values.length; j++) {
    if (j === skip) continue;
    const v = at(values, j);
    if (v >= at(best, k - 1)) continue;
    let i = k - 1;
    while (i > 0 && at(best, i - 1) > v) {
      best[i] = at(best, i - 1);
      i--;
    }
    best[i] = v;
  }
  return at(best, k - 1);
}

/** Squared distance of each row of `f` to its k-th nearest other row of `f`. */
export async function kthNeighbourRadii(f: FeatureRows, k: number): Promise<Float32Array> {
  if (f.n <= k) throw new RangeError(`a k = ${k} neighbourhood needs more than ${k} rows`);
  const radii = new Float32Array(f.n);
  await distanceBlocks(f, f, (first, block, count) => {
    for (let r = 0; r < count; r++)
      radii[first + r] = kthSmallest(block.subarray(r * f.n, (r + 1) * f.n), k, first + r);
  });
  return radii;
}

/** Share of `points` rows inside at least one ball (center row i of `centers`, squared radius radii[i]). */
async function coveredShare(
  points: FeatureRows,
  centers: FeatureRows,
  radii: Float32Array,
): Promise<number> {
  let inside = 0;
  await distanceBlocks(points, centers, (_, block, count) => {
    for (let r = 0; r < count; r++) {
      const row = block.subarray(r * centers.n, (r + 1) * centers.n);
      for (let c = 0; c < centers.n; c++)
        if (at(row, c) <= at(radii, c)) {
          inside++;
          break;
        }
    }
  });
  return inside / points.n;
}

export interface PrecisionRecall {
  precision: number;
  recall: number;
  k: number;
}

/** Improved precision and recall with k nearest neighbours (k = 3, as the paper's default). */
export async function precisionRecall(
  real: FeatureRows,
  fake: FeatureRows,
  k = 3,
): Promise<PrecisionRecall> {
  return {
    precision: await coveredShare(fake, real, await kthNeighbourRadii(real, k)),
    recall: await coveredShare(real, fake, await kthNeighbourRadii(fake, k)),
    k,
  };
}

/** Each row of `query`'s squared distance to its nearest row of `reference`. */
export async function nearestDistances(
  query: FeatureRows,
  reference: FeatureRows,
): Promise<Float32Array> {
  const out = new Float32Array(query.n);
  await distanceBlocks(query, reference, (first, block, count) => {
    for (let r = 0; r < count; r++)
      out[first + r] = kthSmallest(block.subarray(r * reference.n, (r + 1) * reference.n), 1);
  });
  return out;
}

export interface CopyCheck {
  /** Share of generated samples closer to the training set than the threshold. */
  copies: number;
  /** The 1st percentile of held-out real images' nearest-training squared distances. */
  threshold: number;
  /** Generated sample index → its nearest training row and squared distance, closest first. */
  closest: { sample: number; train: number; distance: number }[];
}

/**
 * Copies: a generated sample counts as one when its nearest training feature is closer than the
 * 1st percentile of held-out real images' nearest-training distances (real images that are not
 * in the training set almost never come that close). `closest` lists the `keep` nearest pairs.
 */
export async function copyCheck(
  train: FeatureRows,
  heldOut: FeatureRows,
  fake: FeatureRows,
  keep = 8,
): Promise<CopyCheck> {
  const held = Float32Array.from(await nearestDistances(heldOut, train)).sort();
  const threshold = at(held, Math.floor(0.01 * (held.length - 1)));
  const nearest = new Float32Array(fake.n);
  const index = new Int32Array(fake.n);
  await distanceBlocks(fake, train, (first, block, count) => {
    for (let r = 0; r < count; r++) {
      let best = Infinity;
      let arg = -1;
      for (let c = 0; c < train.n; c++) {
        const v = at(block, r * train.n + c);
        if (v < best) [best, arg] = [v, c];
      }
      nearest[first + r] = best;
      index[first + r] = arg;
    }
  });
  let copies = 0;
  for (const v of nearest) if (v < threshold) copies++;
  const closest = Array.from(nearest, (distance, sample) => ({
    sample,
    train: at(index, sample),
    distance,
  }))
    .sort((a, b) => a.distance - b.distance)
    .slice(0, keep);
  return { copies: copies / fake.n, threshold, closest };
}

/** Statistics (μ, Σ for FID) of the rows `idx` of `f`, all of them by default. */
export async function statsOfRows(
  f: FeatureRows,
  idx: ArrayLike<number> = all(f.n),
): Promise<FeatureStats> {
  const acc = new MomentAccumulator(dimOf(f));
  const x = rows(f, idx);
  try {
    await acc.add(x);
  } finally {
    x.dispose();
  }
  return acc.stats();
}

export interface ComparedPair {
  /** FID(A) − FID(B) on all samples: negative when A is closer to the real set. */
  fid_diff: number;
  fid_ci95: [number, number];
  /** KID(A) − KID(B), both on the KID protocol with the same real subsets. */
  kid_diff: number;
  kid_ci95: [number, number];
  /** The generator both intervals call closer to the real set; null when either includes 0 or they disagree. */
  better: 'A' | 'B' | null;
  /** Each generator's own numbers on all its samples (KID with the same real subsets for both). */
  a: { fid: number; kid: number; kid_std: number };
  b: { fid: number; kid: number; kid_std: number };
  replicates: number;
  /** Rows per set in each replicate (the half-sample size). */
  half: number;
}

/**
 * Two generators' samples against one real set, with 95% intervals on the differences in FID and
 * KID. The intervals come from half-sampling (balanced repeated replication): each replicate
 * draws m = n/2 rows of A, of B and of the real rows without replacement and measures both
 * differences on them; for a statistic of n i.i.d. samples, Var(full) ≈ m/(n − m) · Var(half) =
 * Var(half), so the replicates' spread is the full estimate's. Subsets without replacement keep
 * KID's U-statistic unbiased, where a with-replacement bootstrap would count duplicates as pairs
 * (k(x, x) is far above k(x, y)). Replicates are paired (one real subset for both generators),
 * so what is shared cancels and the interval measures the generators' difference only.
 */
export async function compareSamples(
  real: FeatureRows,
  realStats: FeatureStats,
  a: FeatureRows,
  b: FeatureRows,
  { replicates = 100, seed = 1, subsets = 100 } = {},
): Promise<ComparedPair> {
  const n = Math.min(a.n, b.n, real.n);
  const d = dimOf(a);
  const half = Math.min(1000, Math.floor(n / 2));
  if (half <= d)
    throw new RangeError(
      `comparing needs at least ${2 * (d + 1)} samples of each generator (twice the feature dimension ${d} + 1), got ${n}`,
    );
  const fid = async (f: FeatureRows, idx: ArrayLike<number>) =>
    frechetDistance(await statsOfRows(f, idx), realStats).fid;
  const measured = async (f: FeatureRows) => {
    const kid = await kernelInceptionDistance(real, f, { seed, subsets });
    return { fid: await fid(f, all(f.n)), kid: kid.kid, kid_std: kid.kid_std };
  };
  const ma = await measured(a);
  const mb = await measured(b);
  const fid_diff = ma.fid - mb.fid;
  const kid_diff = ma.kid - mb.kid;
  const rng = createRng(seed + 1);
  const fidDiffs: number[] = [];
  const kidDiffs: number[] = [];
  for (let r = 0; r < replicates; r++) {
    const [ia, ib, ir] = [
      subset(a.n, half, rng),
      subset(b.n, half, rng),
      subset(real.n, half, rng),
    ];
    fidDiffs.push((await fid(a, ia)) - (await fid(b, ib)));
    const [x, ya, yb] = [rows(real, ir), rows(a, ia), rows(b, ib)];
    try {
      kidDiffs.push((await polynomialMmd2(x, ya)) - (await polynomialMmd2(x, yb)));
    } finally {
      tf.dispose([x, ya, yb]);
    }
  }
  const scale = Math.sqrt(half / Math.max(1, n - half));
  const interval = (centre: number, values: number[]): [number, number] => {
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    const sd = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1));
    return [centre - 1.96 * sd * scale, centre + 1.96 * sd * scale];
  };
  const fid_ci95 = interval(fid_diff, fidDiffs);
  const kid_ci95 = interval(kid_diff, kidDiffs);
  const side = ([lo, hi]: [number, number]): 'A' | 'B' | null =>
    hi < 0 ? 'A' : lo > 0 ? 'B' : null;
  const [byFid, byKid] = [side(fid_ci95), side(kid_ci95)];
  return {
    fid_diff,
    fid_ci95,
    kid_diff,
    kid_ci95,
    better: byFid !== null && byFid === byKid ? byFid : null,
    a: ma,
    b: mb,
    replicates,
    half,
  };
}
