/**
 * The dense float64 linear algebra behind FID's trace term, in plain TypeScript: pivoted Cholesky,
 * the congruence M = Lᵀ·B·L, and the eigenvalues of a symmetric matrix by Householder
 * tridiagonalisation and the implicit QL algorithm (Wilkinson & Reinsch, Handbook for Automatic
 * Computation vol. II, tred2/tql2, eigenvalues only). assembly/linalg.ts runs the same steps as
 * WebAssembly SIMD; this is the fallback and the cross-check.
 */
/** Row-major n×n float64 matrix. */
export type Matrix = Float64Array;

/** Pivots below this are rounding, not variance. */
export function pivotTolerance(a: Matrix, n: number): number {
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
export function permuteSymmetric(b: Matrix, n: number, perm: Int32Array): Matrix {
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
export function congruence(l: Matrix, b: Matrix, n: number): Matrix {
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
