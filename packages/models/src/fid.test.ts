/**
 * FID and IS against independent references: float64 numpy/scipy results committed in
 * test-data/fid-reference.json (made by test-data/fid_reference.py), and IS by hand.
 */
import '@tensorflow/tfjs-backend-cpu';

import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import referenceJson from '../test-data/fid-reference.json';
import { frechetDistance, inceptionScore, MomentAccumulator, type FeatureStats } from './fid';
import { symmetricEigenvalues } from './linalg';
import { linalgWasmAvailable } from './linalg-wasm';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** mulberry32, as fid_reference.py: the same integers in both languages. */
function mulberry32(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1) >>> 0;
    t = (t ^ ((t + (Math.imul(t ^ (t >>> 7), t | 61) >>> 0)) >>> 0)) >>> 0;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

interface SampleSpec {
  seed: number;
  n: number;
  scale_wave: number;
  mean_shift: number;
}

/** The Python script's gaussian_samples: [n, d] row-major float64. */
function gaussianSamples({ seed, n, scale_wave, mean_shift }: SampleSpec, d: number): Float64Array {
  const rng = mulberry32(seed);
  const raw = new Float64Array(n * d);
  for (let i = 0; i < n * d; i++) {
    const u1 = (rng() + 1) / 4294967297;
    const u2 = rng() / 4294967296;
    raw[i] = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const mixed = raw[i * d + j]! + 0.5 * raw[i * d + ((j + d - 1) % d)]!;
      out[i * d + j] = mixed * (1 + scale_wave * Math.sin(j)) + mean_shift * Math.cos(j * 0.37);
    }
  }
  return out;
}

/** Plain float64 mean and unbiased covariance (np.cov(rowvar=False)). */
function statsOf(x: Float64Array, n: number, d: number): FeatureStats {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += x[i * d + j]! / n;
  const c = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) c[i * d + j] = x[i * d + j]! - mean[j]!;
  const cov = new Float64Array(d * d);
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < d; r++) {
      const v = c[i * d + r]!;
      for (let q = r; q < d; q++) cov[r * d + q]! += v * c[i * d + q]!;
    }
  }
  for (let r = 0; r < d; r++) {
    for (let q = r; q < d; q++) {
      cov[r * d + q]! /= n - 1;
      cov[q * d + r] = cov[r * d + q]!;
    }
  }
  return { dim: d, count: n, mean, cov };
}

const trace = (s: FeatureStats) => {
  let t = 0;
  for (let i = 0; i < s.dim; i++) t += s.cov[i * s.dim + i]!;
  return t;
};

interface ReferenceCase {
  name: string;
  dim: number;
  a: SampleSpec;
  b: SampleSpec;
  trace_a: number;
  trace_b: number;
  fid: number;
}
const reference = referenceJson as { cases: ReferenceCase[] };

// Both paths: the WebAssembly SIMD kernels (the default) and the scalar fallback.
describe.each(['wasm', 'js'] as const)(
  'frechetDistance (%s kernels) against numpy/scipy (float64)',
  (kernels) => {
    it('runs the kernels it names', () => {
      expect(linalgWasmAvailable()).toBe(true); // Node 20 has wasm SIMD: the fast path is tested
    });

    it.each(reference.cases)(
      '$name: matches scipy to 1e-6 relative and is 0 for identical statistics',
      (c) => {
        const a = statsOf(gaussianSamples(c.a, c.dim), c.a.n, c.dim);
        const b = statsOf(gaussianSamples(c.b, c.dim), c.b.n, c.dim);
        // Same samples as the Python side before any FID is compared.
        expect(Math.abs(trace(a) - c.trace_a) / c.trace_a).toBeLessThan(1e-12);
        expect(Math.abs(trace(b) - c.trace_b) / c.trace_b).toBeLessThan(1e-12);
        const { fid, offset } = frechetDistance(a, b, 1e-6, kernels);
        expect(offset).toBe(0);
        expect(Math.abs(fid - c.fid) / c.fid).toBeLessThan(1e-6);
        expect(Math.abs(frechetDistance(b, a, 1e-6, kernels).fid - fid) / fid).toBeLessThan(1e-6); // symmetric
        expect(Math.abs(frechetDistance(a, a, 1e-6, kernels).fid)).toBeLessThan(1e-6);
      },
    );

    it('says so instead of returning NaN, and refuses mismatched networks', () => {
      const a = statsOf(
        gaussianSamples({ seed: 1, n: 20, scale_wave: 0, mean_shift: 0 }, 4),
        20,
        4,
      );
      const broken = { ...a, mean: Float64Array.from(a.mean, (v, i) => (i === 2 ? NaN : v)) };
      expect(() => frechetDistance(a, broken, 1e-6, kernels)).toThrow(/NaN or Inf/);
      const other = statsOf(
        gaussianSamples({ seed: 1, n: 20, scale_wave: 0, mean_shift: 0 }, 5),
        20,
        5,
      );
      expect(() => frechetDistance(a, other, 1e-6, kernels)).toThrow(/dims differ/);
    });

    it('falls back to the reference 1e-6 offset for an indefinite covariance', () => {
      const d = 3;
      const a: FeatureStats = {
        dim: d,
        count: 10,
        mean: new Float64Array(d),
        cov: Float64Array.from([1, 0, 0, 0, 1, 0, 0, 0, -1e-9]),
      };
      const { fid, offset } = frechetDistance(a, a, 1e-6, kernels);
      expect(offset).toBe(1e-6);
      expect(Number.isFinite(fid)).toBe(true);
    });
  },
);

describe('symmetricEigenvalues', () => {
  it('finds the eigenvalues of a matrix built from known ones', () => {
    // A = Q·diag(λ)·Qᵀ with Q a product of Givens rotations.
    const n = 7;
    const lambda = [5, -2, 0, 1e-3, 3, 3, 10];
    const q = new Float64Array(n * n);
    for (let i = 0; i < n; i++) q[i * n + i] = 1;
    for (let p = 0; p < n - 1; p++) {
      const t = 0.3 + p;
      const [c, s] = [Math.cos(t), Math.sin(t)];
      for (let r = 0; r < n; r++) {
        const x = q[r * n + p]!;
        const y = q[r * n + p + 1]!;
        q[r * n + p] = c * x - s * y;
        q[r * n + p + 1] = s * x + c * y;
      }
    }
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++)
        for (let k = 0; k < n; k++) a[i * n + j]! += q[i * n + k]! * lambda[k]! * q[j * n + k]!;
    const got = Array.from(symmetricEigenvalues(a, n)).sort((x, y) => x - y);
    const want = [...lambda].sort((x, y) => x - y);
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 10));
  });
});

describe('MomentAccumulator', () => {
  it('streams batches to the same mean and covariance as a float64 pass over all rows, leaking nothing', async () => {
    const d = 16;
    const n = 300;
    const x = gaussianSamples({ seed: 9, n, scale_wave: 0.5, mean_shift: 3 }, d);
    const want = statsOf(x, n, d);
    const acc = new MomentAccumulator(d);
    const before = tf.memory().numTensors;
    for (let start = 0; start < n; start += 64) {
      const rows = Math.min(64, n - start);
      const batch = tf.tensor2d(Float32Array.from(x.subarray(start * d, (start + rows) * d)), [
        rows,
        d,
      ]);
      await acc.add(batch);
      batch.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    const got = acc.stats();
    expect(got.count).toBe(n);
    // float32 features: agreement to float32 precision, far below any FID that matters.
    for (let i = 0; i < d; i++) expect(got.mean[i]).toBeCloseTo(want.mean[i]!, 5);
    for (let i = 0; i < d * d; i++) expect(got.cov[i]).toBeCloseTo(want.cov[i]!, 4);
    expect(frechetDistance(got, want).fid).toBeLessThan(1e-4);
  });

  it('rejects NaN features', async () => {
    const acc = new MomentAccumulator(2);
    const bad = tf.tensor2d([1, NaN, 2, 3], [2, 2]);
    await expect(acc.add(bad)).rejects.toThrow(/NaN or Inf/);
    bad.dispose();
  });
});

describe('inceptionScore', () => {
  it('is exp(mean KL(p(y|x) ‖ p(y))) by hand on crafted tables', () => {
    // Two confident, different classes: p(y) = (½, ½); KL of each row = log 2 → IS = 2.
    expect(inceptionScore([1, 0, 0, 1], 2, 2, 1).mean).toBeCloseTo(2, 12);
    // Identical rows: p(y|x) = p(y) → KL 0 → IS = 1, the minimum.
    expect(inceptionScore([0.2, 0.8, 0.2, 0.8, 0.2, 0.8], 3, 2, 1).mean).toBeCloseTo(1, 12);
    // Mixed table, KL computed by hand.
    const rows = [
      [0.7, 0.2, 0.1],
      [0.1, 0.8, 0.1],
      [0.3, 0.3, 0.4],
      [0.6, 0.1, 0.3],
    ];
    const py = [0, 1, 2].map((j) => rows.reduce((s, r) => s + r[j]!, 0) / rows.length);
    const kl = rows.map((r) => r.reduce((s, p, j) => s + p * Math.log(p / py[j]!), 0));
    const want = Math.exp(kl.reduce((s, v) => s + v, 0) / rows.length);
    expect(inceptionScore(rows.flat(), 4, 3, 1).mean).toBeCloseTo(want, 12);
    // Splits: mean and population std of the per-split scores.
    const two = inceptionScore([1, 0, 0, 1, 0.5, 0.5, 0.5, 0.5], 4, 2, 2);
    expect(two.mean).toBeCloseTo(1.5, 12);
    expect(two.std).toBeCloseTo(0.5, 12);
  });
});
