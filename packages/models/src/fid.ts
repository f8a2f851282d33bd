/**
 * Fréchet Inception Distance (Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule
 * Converge to a Local Nash Equilibrium", arXiv:1706.08500, eq. 6) and Inception Score (Salimans et
 * al. 2016, "Improved Techniques for Training GANs", arXiv:1606.03498, §4), in float64 with no
 * dependency: tfjs has no eigendecomposition, SVD or matrix square root, and float32 loses the
 * trace term at 2048 dimensions.
 *
 *   FID = ‖μ1 − μ2‖² + Tr(C1) + Tr(C2) − 2·Tr((C1·C2)^½)
 *
 * Tr((C1·C2)^½) without a general matrix square root: with C1 = L·Lᵀ (Cholesky; pivoted, so
 * rank-deficient covariances factor stably, and C2 permuted to match), C1·C2 is similar
 * to the symmetric positive semi-definite M = Lᵀ·C2·L, so the trace is Σ √λᵢ(M). The eigenvalues
 * come from a Householder reduction to tridiagonal form and the implicit QL algorithm (./linalg),
 * ~(2/3)·n³ multiply-adds after ~(1/6 + 1/2 + 1/3)·n³ for the Cholesky factor and M. The same steps
 * run as WebAssembly SIMD (assembly/linalg.ts) where the engine has it.
 */
import * as tf from '@tensorflow/tfjs-core';

import {
  congruence,
  permuteSymmetric,
  pivotedCholesky,
  pivotTolerance,
  symmetricEigenvalues,
  type Matrix,
} from './linalg';
import { congruenceEigenvaluesWasm } from './linalg-wasm';

export interface FeatureStats {
  /** Feature dimension d. */
  dim: number;
  /** Samples the statistics were computed from. */
  count: number;
  /** μ [d]. */
  mean: Float64Array;
  /** Unbiased covariance [d·d] row-major (numpy's np.cov(rowvar=False)). */
  cov: Matrix;
}

/**
 * Streams feature batches [n, d] into float64 sums. Each batch is centred on a fixed shift (the
 * first batch's mean) before its Gram matrix is formed, so the uncentred-sum cancellation that
 * float32 would suffer stays small; the Gram matrix itself is one backend matmul per batch. Reads
 * are asynchronous: WebGPU in Node has no synchronous read, and on wasm and cpu `data()` costs
 * what `dataSync()` does.
 */
export class MomentAccumulator {
  private count = 0;
  private shift: Float64Array | undefined;
  private readonly sum: Float64Array;
  private readonly outer: Float64Array;

  constructor(readonly dim: number) {
    if (!Number.isInteger(dim) || dim < 1)
      throw new RangeError(`feature dim must be ≥ 1, got ${dim}`);
    this.sum = new Float64Array(dim);
    this.outer = new Float64Array(dim * dim);
  }

  /** features: [n, d]; not disposed here. `values`: its rows when the caller already read them. */
  async add(features: tf.Tensor2D, values?: Float32Array): Promise<void> {
    const [n, d] = features.shape;
    if (d !== this.dim) throw new RangeError(`features have ${d} dims, expected ${this.dim}`);
    if (n === 0) return;
    values ??= (await features.data()) as Float32Array;
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i]!)) {
        throw new RangeError(
          'the feature network produced NaN or Inf; the images or weights are broken',
        );
      }
    }
    if (!this.shift) {
      const s = new Float64Array(d);
      for (let r = 0; r < n; r++) for (let c = 0; c < d; c++) s[c]! += values[r * d + c]!;
      for (let c = 0; c < d; c++) s[c]! /= n;
      this.shift = s;
    }
    const shift = this.shift;
    const gram = tf.tidy(() => {
      const centred = tf.sub<tf.Tensor2D>(features, tf.tensor1d(Float32Array.from(shift))); // [n, d]
      return tf.matMul(centred, centred, true, false); // [d, d]
    });
    let g: Float32Array;
    try {
      g = (await gram.data()) as Float32Array;
    } finally {
      gram.dispose();
    }
    for (let i = 0; i < g.length; i++) this.outer[i]! += g[i]!;
    for (let r = 0; r < n; r++)
      for (let c = 0; c < d; c++) this.sum[c]! += values[r * d + c]! - shift[c]!;
    this.count += n;
  }

  get samples(): number {
    return this.count;
  }

  stats(): FeatureStats {
    const { dim: d, count: n } = this;
    if (n < 2) throw new RangeError(`need at least 2 samples for a covariance, got ${n}`);
    const shift = this.shift!;
    const mean = new Float64Array(d);
    const cov = new Float64Array(d * d);
    for (let c = 0; c < d; c++) mean[c] = this.sum[c]! / n; // mean of the shifted data
    for (let r = 0; r < d; r++) {
      for (let c = 0; c < d; c++) {
        cov[r * d + c] = (this.outer[r * d + c]! - n * mean[r]! * mean[c]!) / (n - 1);
      }
    }
    for (let c = 0; c < d; c++) mean[c]! += shift[c]!;
    return { dim: d, count: n, mean, cov };
  }
}

export interface FidResult {
  fid: number;
  /** The diagonal offset added to both covariances because C1 was indefinite (0 when none was needed). */
  offset: number;
}

function assertStats(s: FeatureStats, name: string): void {
  const { dim, mean, cov } = s;
  if (mean.length !== dim || cov.length !== dim * dim)
    throw new RangeError(`${name}: mean/cov sizes do not match dim ${dim}`);
  for (const v of mean)
    if (!Number.isFinite(v)) throw new RangeError(`${name}: mean has NaN or Inf`);
  for (const v of cov)
    if (!Number.isFinite(v)) throw new RangeError(`${name}: covariance has NaN or Inf`);
}

/** wasm: SIMD kernels when available (default); js: the scalar code (fallback, cross-check). */
export type FidKernels = 'wasm' | 'js';

/** Tr((C1·C2)^½) via the Cholesky congruence; undefined when C1 is indefinite. */
function traceSqrtProduct(
  c1: Matrix,
  c2: Matrix,
  n: number,
  kernels: FidKernels,
): number | undefined {
  let eig = kernels === 'wasm' ? congruenceEigenvaluesWasm(c1, c2, n, pivotTolerance(c1, n)) : null;
  if (eig === undefined) return undefined;
  if (eig === null) {
    // Eigenvalues of C1·C2 are those of (P·C1·Pᵀ)·(P·C2·Pᵀ): the permutation goes onto C2.
    const f = pivotedCholesky(c1, n);
    if (!f) return undefined;
    eig = symmetricEigenvalues(congruence(f.l, permuteSymmetric(c2, n, f.perm), n), n);
  }
  let t = 0;
  // M is PSD in exact arithmetic; rounding can leave eigenvalues of ~−1e-15·‖M‖ that mean 0.
  for (const v of eig) t += v > 0 ? Math.sqrt(v) : 0;
  return t;
}

/**
 * FID between two Gaussians. As the reference implementation (pytorch-fid / TTUR), a product
 * whose square root cannot be taken gets a 1e-6 offset on both diagonals, and non-finite input is
 * an error, not a number.
 */
export function frechetDistance(
  a: FeatureStats,
  b: FeatureStats,
  eps = 1e-6,
  kernels: FidKernels = 'wasm',
): FidResult {
  if (a.dim !== b.dim)
    throw new RangeError(`feature dims differ: ${a.dim} vs ${b.dim} (different feature networks?)`);
  assertStats(a, 'first statistics');
  assertStats(b, 'second statistics');
  const n = a.dim;
  let diff2 = 0;
  for (let i = 0; i < n; i++) diff2 += (a.mean[i]! - b.mean[i]!) ** 2;
  let trA = 0;
  let trB = 0;
  for (let i = 0; i < n; i++) {
    trA += a.cov[i * n + i]!;
    trB += b.cov[i * n + i]!;
  }
  let offset = 0;
  let tr = traceSqrtProduct(a.cov, b.cov, n, kernels);
  if (tr === undefined) {
    offset = eps;
    const withOffset = (c: Matrix) => {
      const o = Float64Array.from(c);
      for (let i = 0; i < n; i++) o[i * n + i]! += offset;
      return o;
    };
    tr = traceSqrtProduct(withOffset(a.cov), withOffset(b.cov), n, kernels);
    if (tr === undefined)
      throw new RangeError(
        'covariance is not positive semi-definite even with an offset: broken statistics',
      );
  }
  // As the reference: the traces are of the covariances without the offset.
  const fid = diff2 + trA + trB - 2 * tr;
  return { fid: Math.max(0, fid), offset };
}

export interface InceptionScore {
  mean: number;
  std: number;
}

/**
 * IS = exp(E_x KL(p(y|x) ‖ p(y))) over `splits` equal consecutive parts, reported as mean ± std
 * of the per-split scores (population std, as the original code's np.std). probs: [n, k] rows
 * summing to 1.
 */
export function inceptionScore(
  probs: ArrayLike<number>,
  n: number,
  k: number,
  splits = 10,
): InceptionScore {
  if (probs.length !== n * k)
    throw new RangeError(`probs has ${probs.length} values, expected ${n}×${k}`);
  if (!Number.isInteger(splits) || splits < 1 || splits > n)
    throw new RangeError(`splits must be an integer in [1, ${n}], got ${splits}`);
  const scores: number[] = [];
  for (let s = 0; s < splits; s++) {
    const start = Math.floor((s * n) / splits);
    const end = Math.floor(((s + 1) * n) / splits);
    const py = new Float64Array(k);
    for (let i = start; i < end; i++) for (let j = 0; j < k; j++) py[j]! += probs[i * k + j]!;
    for (let j = 0; j < k; j++) py[j]! /= end - start;
    let kl = 0;
    for (let i = start; i < end; i++) {
      for (let j = 0; j < k; j++) {
        const p = probs[i * k + j]!;
        if (!Number.isFinite(p)) throw new RangeError('probabilities contain NaN or Inf');
        if (p > 0) kl += p * (Math.log(p) - Math.log(py[j]!));
      }
    }
    scores.push(Math.exp(kl / (end - start)));
  }
  const mean = scores.reduce((x, y) => x + y, 0) / splits;
  const std = Math.sqrt(scores.reduce((x, y) => x + (y - mean) ** 2, 0) / splits);
  return { mean, std };
}
