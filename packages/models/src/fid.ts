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
 * come from a Householder reduction to tridiagonal form and the implicit QL algorithm (Wilkinson &
 * Reinsch, Handbook for Automatic Computation vol. II, tred2/tql2, eigenvalues only), ~(2/3)·n³
 * multiply-adds after ~(1/6 + 1/2 + 1/3)·n³ for the Cholesky factor and M. The same steps run as
 * WebAssembly SIMD (assembly/linalg.ts) where the engine has it; the scalar code below is the
 * fallback and the cross-check.
 */
import * as tf from '@tensorflow/tfjs-core';

import { congruenceEigenvaluesWasm } from './linalg-wasm';

/** Row-major n×n float64 matrix. */
export type Matrix = Float64Array;

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

/** Pivots below this are rounding, not variance. */
function pivotTolerance(a: Matrix, n: number): number {
  let maxDiag = 0;
  for (let i = 0; i < n; i++) maxDiag = Math.max(maxDiag, Math.abs(a[i * n + i]!));
  return n * 2 ** -52 * maxDiag * 16;
}

export interface PivotedCholesky {
  /** Lower-triangular n×n row-major L with P·A·Pᵀ = L·Lᵀ. */
  l: Matrix;
  /** perm[i] = the row of A that is row i of P·A·Pᵀ. */
  perm: Int32Array;
}

/**
 * Cholesky with symmetric pivoting (largest remaining pivot first; LAPACK dpstrf, Higham 2009,
 * "Cholesky factorization", §3) of a symmetric positive semi-definite A: P·A·Pᵀ = L·Lᵀ. When A is
 * singular (a feature with no variance, fewer samples than dimensions), pivoting takes the
 * independent directions first and stops once every remaining pivot is rounding (≤ tol), leaving
 * zero columns; unpivoted, the rounding left after the rank is reached was taken for a pivot and
 * amplified (seen as a 1e-4 relative FID error in the singular scipy case).
 * Undefined when a remaining pivot is clearly negative (A indefinite).
 */
export function pivotedCholesky(a: Matrix, n: number): PivotedCholesky | undefined {
  const tol = pivotTolerance(a, n);
  const w = Float64Array.from(a); // permuted in place
  const l = new Float64Array(n * n);
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  const done = new Float64Array(n); // Σ_p L[j][p]² so far: the remaining pivot is A[j][j] − done[j]
  for (let k = 0; k < n; k++) {
    let best = k;
    let bestV = -Infinity;
    let minV = Infinity;
    for (let j = k; j < n; j++) {
      const v = w[j * n + j]! - done[j]!;
      if (v > bestV) [best, bestV] = [j, v];
      minV = Math.min(minV, v);
    }
    if (minV < -tol) return undefined;
    if (bestV <= tol) break;
    if (best !== k) {
      swapSymmetric(w, n, k, best);
      for (let p = 0; p < k; p++)
        [l[k * n + p], l[best * n + p]] = [l[best * n + p]!, l[k * n + p]!];
      [done[k], done[best]] = [done[best]!, done[k]!];
      [perm[k], perm[best]] = [perm[best]!, perm[k]!];
    }
    const lkk = Math.sqrt(bestV);
    const rk = k * n;
    l[rk + k] = lkk;
    for (let i = k + 1; i < n; i++) {
      const ri = i * n;
      let s = w[rk + i]!; // A[i][k] = A[k][i]: row k is contiguous
      for (let p = 0; p < k; p++) s -= l[ri + p]! * l[rk + p]!;
      const v = s / lkk;
      l[ri + k] = v;
      done[i]! += v * v;
    }
  }
  return { l, perm };
}

/** Swaps rows and columns p and q of the symmetric n×n `a` in place. */
function swapSymmetric(a: Matrix, n: number, p: number, q: number): void {
  for (let c = 0; c < n; c++) [a[p * n + c], a[q * n + c]] = [a[q * n + c]!, a[p * n + c]!];
  for (let r = 0; r < n; r++) [a[r * n + p], a[r * n + q]] = [a[r * n + q]!, a[r * n + p]!];
}

/** P·B·Pᵀ for the permutation of a pivoted Cholesky. */
function permuteSymmetric(b: Matrix, n: number, perm: Int32Array): Matrix {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const src = perm[i]! * n;
    for (let j = 0; j < n; j++) out[i * n + j] = b[src + perm[j]!]!;
  }
  return out;
}

/**
 * Rows per block in the congruence: a block of output rows (64 × n doubles, 1 MiB at n = 2048)
 * stays in cache while each row of the right-hand factor streams past once per block instead of
 * once per row; at n = 2048 the unblocked loops were bound by memory traffic, not arithmetic.
 */
const BLOCK = 64;

/** M = Lᵀ·B·L for lower-triangular L and symmetric B (both n×n row-major); M is symmetric. */
function congruence(l: Matrix, b: Matrix, n: number): Matrix {
  // T = B·L: T[i][j] = Σ_{k≥j} B[i][k]·L[k][j], in row blocks of T.
  const t = new Float64Array(n * n);
  for (let i0 = 0; i0 < n; i0 += BLOCK) {
    const i1 = Math.min(n, i0 + BLOCK);
    for (let k = 0; k < n; k++) {
      const rk = k * n;
      for (let i = i0; i < i1; i++) {
        const ri = i * n;
        const bik = b[ri + k]!;
        if (bik === 0) continue;
        for (let j = 0; j <= k; j++) t[ri + j]! += bik * l[rk + j]!;
      }
    }
  }
  // M = Lᵀ·T: M[i][j] = Σ_{k≥i} L[k][i]·T[k][j], only j ≥ i, in row blocks of M, then mirrored.
  const m = new Float64Array(n * n);
  for (let i0 = 0; i0 < n; i0 += BLOCK) {
    const i1 = Math.min(n, i0 + BLOCK);
    for (let k = i0; k < n; k++) {
      const rk = k * n;
      const iEnd = Math.min(i1 - 1, k);
      for (let i = i0; i <= iEnd; i++) {
        const lki = l[rk + i]!;
        if (lki === 0) continue;
        const ri = i * n;
        for (let j = i; j < n; j++) m[ri + j]! += lki * t[rk + j]!;
      }
    }
  }
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) m[j * n + i] = m[i * n + j]!;
  return m;
}

/**
 * Eigenvalues (unsorted) of a symmetric n×n matrix; `a` is overwritten. Householder
 * tridiagonalisation then implicit QL with Wilkinson-style shifts (tred2/tql2 without the
 * eigenvectors). Only the upper triangle is updated, row by row, so the hot loops run over
 * contiguous memory.
 */
export function symmetricEigenvalues(a: Matrix, n: number): Float64Array {
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  // W[j][k] (k ≥ j) below stands for the lower-triangle element V[k][j] of the classic
  // formulation; the matrix is symmetric so W starts equal to A.
  const w = a;
  for (let j = 0; j < n; j++) d[j] = w[j * n + (n - 1)]!;
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]!);
    if (scale === 0) {
      e[i] = d[i - 1]!;
      for (let j = 0; j < i; j++) {
        d[j] = w[j * n + (i - 1)]!;
        w[j * n + i] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k]! /= scale;
        h += d[k]! * d[k]!;
      }
      let f = d[i - 1]!;
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        const rj = j * n;
        f = d[j]!;
        g = e[j]! + w[rj + j]! * f;
        for (let k = j + 1; k <= i - 1; k++) {
          const v = w[rj + k]!;
          g += v * d[k]!;
          e[k]! += v * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j]! /= h;
        f += e[j]! * d[j]!;
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j]! -= hh * d[j]!;
      for (let j = 0; j < i; j++) {
        const rj = j * n;
        f = d[j]!;
        g = e[j]!;
        for (let k = j; k <= i - 1; k++) w[rj + k]! -= f * e[k]! + g * d[k]!;
        d[j] = w[rj + (i - 1)]!;
        w[rj + i] = 0;
      }
    }
    d[i] = h;
  }
  // The tridiagonal matrix's diagonal is what the reduction left on W's diagonal.
  for (let j = 0; j < n; j++) d[j] = w[j * n + j]!;
  e[0] = 0;

  // Implicit QL on the tridiagonal (d, e).
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]!) + Math.abs(e[l]!));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]!) <= eps * tst1) break;
      m++;
    }
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 60) throw new RangeError('eigenvalue iteration did not converge');
        let g = d[l]!;
        let p = (d[l + 1]! - g) / (2 * e[l]!);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l]! / (p + r);
        d[l + 1] = e[l]! * (p + r);
        const dl1 = d[l + 1]!;
        let h = g - d[l]!;
        for (let i = l + 2; i < n; i++) d[i]! -= h;
        f += h;
        p = d[m]!;
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1]!;
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i]!;
          h = c * p;
          r = Math.hypot(p, e[i]!);
          e[i + 1] = s * r;
          s = e[i]! / r;
          c = p / r;
          p = c * d[i]! - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]!);
        }
        p = (-s * s2 * c3 * el1 * e[l]!) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]!) > eps * tst1);
    }
    d[l]! += f;
    e[l] = 0;
  }
  return d;
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
