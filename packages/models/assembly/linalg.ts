// The float64 matrix part of FID as WebAssembly SIMD: the same algorithm as
// src/fid.ts (Cholesky C1 = L·Lᵀ, congruence M = Lᵀ·C2·L, Householder tridiagonalisation and
// implicit QL for M's eigenvalues), two doubles per instruction. JavaScript has no SIMD, and at
// 2048 dimensions (Inception pool3) the scalar version took 60 s against the 10 s.
//
// AssemblyScript (compiled by `npm run build:wasm -w @ganstudio/models` into
// src/linalg-wasm.generated.ts). Every matrix is n×n row-major float64 at a byte address the
// caller lays out; n is a multiple of 4 (the caller pads with zeros, which adds zero eigenvalues
// and changes nothing else). No allocation happens here.

/** First free byte after the module's own data: the caller lays its matrices out from here. */
export function heapBase(): usize {
  return __heap_base;
}

@inline function at(p: usize, n: i32, r: i32, c: i32): usize {
  return p + ((<usize>r * <usize>n + <usize>c) << 3);
}

@inline function D(d: usize, k: i32): f64 {
  return load<f64>(d + (<usize>k << 3));
}
@inline function setD(d: usize, k: i32, v: f64): void {
  store<f64>(d + (<usize>k << 3), v);
}

/** Σ p[k]·q[k] for k < len. */
@inline function dot(p: usize, q: usize, len: i32): f64 {
  let a0 = f64x2.splat(0);
  let a1 = f64x2.splat(0);
  let k = 0;
  for (; k + 4 <= len; k += 4) {
    const o = <usize>k << 3;
    a0 = f64x2.add(a0, f64x2.mul(v128.load(p + o), v128.load(q + o)));
    a1 = f64x2.add(a1, f64x2.mul(v128.load(p + o, 16), v128.load(q + o, 16)));
  }
  a0 = f64x2.add(a0, a1);
  let s = f64x2.extract_lane(a0, 0) + f64x2.extract_lane(a0, 1);
  for (; k < len; k++) s += load<f64>(p + (<usize>k << 3)) * load<f64>(q + (<usize>k << 3));
  return s;
}

/**
 * Pivoted Cholesky P·A·Pᵀ = L·Lᵀ of the symmetric positive semi-definite `a` (permuted in place)
 * into `l` (zeroed by the caller), as pivotedCholesky in src/fid.ts: the largest remaining pivot
 * first, stopping with zero columns once every remaining pivot is ≤ tol. perm: i32[n] out;
 * done: f64[n] scratch, zeroed. Returns 0 when a remaining pivot is below −tol (indefinite).
 */
export function pivotedCholesky(a: usize, l: usize, n: i32, tol: f64, perm: usize, done: usize): i32 {
  for (let i = 0; i < n; i++) store<i32>(perm + (<usize>i << 2), i);
  for (let k = 0; k < n; k++) {
    let best = k;
    let bestV = -Infinity;
    let minV = Infinity;
    for (let j = k; j < n; j++) {
      const v = load<f64>(at(a, n, j, j)) - D(done, j);
      if (v > bestV) {
        best = j;
        bestV = v;
      }
      if (v < minV) minV = v;
    }
    if (minV < -tol) return 0;
    if (bestV <= tol) break;
    if (best != k) {
      for (let c = 0; c < n; c++) swapF64(at(a, n, k, c), at(a, n, best, c));
      for (let r = 0; r < n; r++) swapF64(at(a, n, r, k), at(a, n, r, best));
      for (let p = 0; p < k; p++) swapF64(at(l, n, k, p), at(l, n, best, p));
      swapF64(done + (<usize>k << 3), done + (<usize>best << 3));
      const pk = load<i32>(perm + (<usize>k << 2));
      store<i32>(perm + (<usize>k << 2), load<i32>(perm + (<usize>best << 2)));
      store<i32>(perm + (<usize>best << 2), pk);
    }
    const lkk = Math.sqrt(bestV);
    const rk = at(l, n, k, 0);
    store<f64>(rk + (<usize>k << 3), lkk);
    const ak = at(a, n, k, 0);
    for (let i = k + 1; i < n; i++) {
      const ri = at(l, n, i, 0);
      const v = (load<f64>(ak + (<usize>i << 3)) - dot(ri, rk, k)) / lkk;
      store<f64>(ri + (<usize>k << 3), v);
      setD(done, i, D(done, i) + v * v);
    }
  }
  return 1;
}

@inline function swapF64(p: usize, q: usize): void {
  const t = load<f64>(p);
  store<f64>(p, load<f64>(q));
  store<f64>(q, t);
}

// Blocking of atb: a k-block of KC rows of X is packed once into 4-column panels (KC·n doubles)
// and a JW-column slice of Y's k-block (KC·JW doubles, 256 KiB) stays in cache while every
// panel streams past it; the 4×4 output tile lives in eight v128 registers.
const KC: i32 = 256;
const JW: i32 = 128;

/**
 * C += Xᵀ·Y (all n×n). xLower / yLower: X / Y is lower triangular, so products with their zero
 * parts are skipped; upper: only C's upper triangle (j ≥ i) is needed. `xp` is scratch of
 * KC·n doubles.
 */
export function atb(
  x: usize,
  y: usize,
  c: usize,
  n: i32,
  xp: usize,
  xLower: bool,
  yLower: bool,
  upper: bool,
): void {
  const rowBytes = <usize>n << 3;
  for (let kb = 0; kb < n; kb += KC) {
    const kEnd = min(n, kb + KC);
    const kc = kEnd - kb;
    const iMax = xLower ? min(n, kEnd) : n;
    for (let i0 = 0; i0 < iMax; i0 += 4) {
      const panel = xp + ((<usize>(i0 >> 2) * <usize>kc) << 5);
      for (let k = kb; k < kEnd; k++) {
        const src = at(x, n, k, i0);
        const dst = panel + (<usize>(k - kb) << 5);
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
      }
    }
    for (let j0 = 0; j0 < n; j0 += JW) {
      if (yLower && j0 >= kEnd) break;
      const jEnd = min(n, j0 + JW);
      for (let i0 = 0; i0 < iMax; i0 += 4) {
        if (upper && i0 >= jEnd) break;
        const panel = xp + ((<usize>(i0 >> 2) * <usize>kc) << 5);
        const kFirst = xLower ? max(kb, i0) : kb;
        for (let j = j0; j < jEnd; j += 4) {
          if (upper && j + 3 < i0) continue;
          const k0 = yLower ? max(kFirst, j) : kFirst;
          if (k0 >= kEnd) continue;
          let c00 = f64x2.splat(0);
          let c01 = f64x2.splat(0);
          let c10 = f64x2.splat(0);
          let c11 = f64x2.splat(0);
          let c20 = f64x2.splat(0);
          let c21 = f64x2.splat(0);
          let c30 = f64x2.splat(0);
          let c31 = f64x2.splat(0);
          let px = panel + (<usize>(k0 - kb) << 5);
          let py = at(y, n, k0, j);
          for (let k = k0; k < kEnd; k++) {
            const y0 = v128.load(py);
            const y1 = v128.load(py, 16);
            const x0 = v128.load64_splat(px);
            const x1 = v128.load64_splat(px, 8);
            const x2 = v128.load64_splat(px, 16);
            const x3 = v128.load64_splat(px, 24);
            c00 = f64x2.add(c00, f64x2.mul(x0, y0));
            c01 = f64x2.add(c01, f64x2.mul(x0, y1));
            c10 = f64x2.add(c10, f64x2.mul(x1, y0));
            c11 = f64x2.add(c11, f64x2.mul(x1, y1));
            c20 = f64x2.add(c20, f64x2.mul(x2, y0));
            c21 = f64x2.add(c21, f64x2.mul(x2, y1));
            c30 = f64x2.add(c30, f64x2.mul(x3, y0));
            c31 = f64x2.add(c31, f64x2.mul(x3, y1));
            px += 32;
            py += rowBytes;
          }
          let pc = at(c, n, i0, j);
          v128.store(pc, f64x2.add(v128.load(pc), c00));
          v128.store(pc, f64x2.add(v128.load(pc, 16), c01), 16);
          pc += rowBytes;
          v128.store(pc, f64x2.add(v128.load(pc), c10));
          v128.store(pc, f64x2.add(v128.load(pc, 16), c11), 16);
          pc += rowBytes;
          v128.store(pc, f64x2.add(v128.load(pc), c20));
          v128.store(pc, f64x2.add(v128.load(pc, 16), c21), 16);
          pc += rowBytes;
          v128.store(pc, f64x2.add(v128.load(pc), c30));
          v128.store(pc, f64x2.add(v128.load(pc, 16), c31), 16);
        }
      }
    }
  }
}

/** Copies the upper triangle onto the lower one. */
export function mirrorUpper(m: usize, n: i32): void {
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) store<f64>(at(m, n, j, i), load<f64>(at(m, n, i, j)));
}

/**
 * Eigenvalues (unsorted, into d[n]) of the symmetric matrix at w, overwritten; e[n] is scratch.
 * The reduction of src/fid.ts symmetricEigenvalues (tred2/tql2 without eigenvectors, upper
 * triangle row by row) with its two O(n³) loops in SIMD. Returns 0 if QL does not converge.
 */
export function eigenvalues(w: usize, n: i32, d: usize, e: usize): i32 {
  for (let j = 0; j < n; j++) setD(d, j, load<f64>(at(w, n, j, n - 1)));
  for (let i = n - 1; i > 0; i--) {
    let scale = 0.0;
    let h = 0.0;
    for (let k = 0; k < i; k++) scale += Math.abs(D(d, k));
    if (scale == 0) {
      setD(e, i, D(d, i - 1));
      for (let j = 0; j < i; j++) {
        setD(d, j, load<f64>(at(w, n, j, i - 1)));
        store<f64>(at(w, n, j, i), 0);
      }
    } else {
      for (let k = 0; k < i; k++) {
        const v = D(d, k) / scale;
        setD(d, k, v);
        h += v * v;
      }
      let f = D(d, i - 1);
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      setD(e, i, scale * g);
      h -= f * g;
      setD(d, i - 1, f - g);
      for (let j = 0; j < i; j++) setD(e, j, 0);
      // e = W·d over the active block, from the upper triangle only: row j gives its diagonal
      // and k > j terms to e[j] and, by symmetry, W[j][k]·d[j] to e[k].
      for (let j = 0; j < i; j++) {
        f = D(d, j);
        const rj = at(w, n, j, 0);
        const fv = f64x2.splat(f);
        let acc = f64x2.splat(0);
        let k = j + 1;
        for (; k + 2 <= i; k += 2) {
          const o = <usize>k << 3;
          const v = v128.load(rj + o);
          acc = f64x2.add(acc, f64x2.mul(v, v128.load(d + o)));
          v128.store(e + o, f64x2.add(v128.load(e + o), f64x2.mul(v, fv)));
        }
        g = D(e, j) + load<f64>(rj + (<usize>j << 3)) * f;
        g += f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
        for (; k < i; k++) {
          const v = load<f64>(rj + (<usize>k << 3));
          g += v * D(d, k);
          setD(e, k, D(e, k) + v * f);
        }
        setD(e, j, g);
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        const v = D(e, j) / h;
        setD(e, j, v);
        f += v * D(d, j);
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) setD(e, j, D(e, j) - hh * D(d, j));
      // Rank-2 update W −= d·eᵀ + e·dᵀ on the upper triangle.
      for (let j = 0; j < i; j++) {
        f = D(d, j);
        g = D(e, j);
        const rj = at(w, n, j, 0);
        const fv = f64x2.splat(f);
        const gv = f64x2.splat(g);
        let k = j;
        for (; k + 2 <= i; k += 2) {
          const o = <usize>k << 3;
          const upd = f64x2.add(f64x2.mul(fv, v128.load(e + o)), f64x2.mul(gv, v128.load(d + o)));
          v128.store(rj + o, f64x2.sub(v128.load(rj + o), upd));
        }
        for (; k < i; k++) {
          const o = <usize>k << 3;
          store<f64>(rj + o, load<f64>(rj + o) - (f * D(e, k) + g * D(d, k)));
        }
        setD(d, j, load<f64>(rj + (<usize>(i - 1) << 3)));
        store<f64>(rj + (<usize>i << 3), 0);
      }
    }
    setD(d, i, h);
  }
  for (let j = 0; j < n; j++) setD(d, j, load<f64>(at(w, n, j, j)));
  setD(e, 0, 0);

  // Implicit QL on the tridiagonal (d, e): O(n²), scalar.
  for (let i = 1; i < n; i++) setD(e, i - 1, D(e, i));
  setD(e, n - 1, 0);
  let f = 0.0;
  let tst1 = 0.0;
  const eps = 2.220446049250313e-16;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(D(d, l)) + Math.abs(D(e, l)));
    let m = l;
    while (m < n) {
      if (Math.abs(D(e, m)) <= eps * tst1) break;
      m++;
    }
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 60) return 0;
        let g = D(d, l);
        let p = (D(d, l + 1) - g) / (2 * D(e, l));
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        setD(d, l, D(e, l) / (p + r));
        setD(d, l + 1, D(e, l) * (p + r));
        const dl1 = D(d, l + 1);
        let h = g - D(d, l);
        for (let i = l + 2; i < n; i++) setD(d, i, D(d, i) - h);
        f += h;
        p = D(d, m);
        let c = 1.0;
        let c2 = c;
        let c3 = c;
        const el1 = D(e, l + 1);
        let s = 0.0;
        let s2 = 0.0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * D(e, i);
          h = c * p;
          r = Math.hypot(p, D(e, i));
          setD(e, i + 1, s * r);
          s = D(e, i) / r;
          c = p / r;
          p = c * D(d, i) - s * g;
          setD(d, i + 1, h + s * (c * g + s * D(d, i)));
        }
        p = (-s * s2 * c3 * el1 * D(e, l)) / dl1;
        setD(e, l, s * p);
        setD(d, l, c * p);
      } while (Math.abs(D(e, l)) > eps * tst1);
    }
    setD(d, l, D(d, l) + f);
    setD(e, l, 0);
  }
  return 1;
}
