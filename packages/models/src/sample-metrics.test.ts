import '@tensorflow/tfjs-backend-cpu';

import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import type { FeatureStats } from './fid';
import { createRng } from './latent';
import {
  compareSamples,
  copyCheck,
  kernelInceptionDistance,
  polynomialMmd2,
  precisionRecall,
  statsOfRows,
  type FeatureRows,
} from './sample-metrics';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** n rows of d Gaussian features, N(mean, 1), from a seeded stream (Box–Muller). */
function gaussian(n: number, d: number, seed: number, mean = 0): FeatureRows {
  const rng = createRng(seed);
  const data = new Float32Array(n * d);
  for (let i = 0; i < data.length; i++)
    data[i] = mean + Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  return { data, n };
}

describe('KID', () => {
  it('the unbiased MMD² matches a hand computation on small sets', async () => {
    const x = [
      [1, 0, 2],
      [0.5, -1, 0],
      [2, 1, 1],
      [0, 0, -1],
    ];
    const y = [
      [1, 1, 1],
      [-1, 0.5, 0],
      [0, 2, 1],
    ];
    const k = (a: number[], b: number[]) => (a.reduce((s, v, i) => s + v * b[i]!, 0) / 3 + 1) ** 3;
    const mean = (pairs: [number[], number[]][]) =>
      pairs.reduce((s, [a, b]) => s + k(a, b), 0) / pairs.length;
    const off = (z: number[][]) =>
      z.flatMap((a, i) => z.filter((_, j) => j !== i).map((b) => [a, b] as [number[], number[]]));
    const expected =
      mean(off(x)) +
      mean(off(y)) -
      2 * mean(x.flatMap((a) => y.map((b) => [a, b] as [number[], number[]])));
    const before = tf.memory().numTensors;
    const [tx, ty] = [tf.tensor2d(x), tf.tensor2d(y)];
    const got = await polynomialMmd2(tx, ty);
    tf.dispose([tx, ty]);
    expect(got).toBeCloseTo(expected, 4);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is ~0 for two draws of one distribution and clearly positive for a shifted one', async () => {
    const a = gaussian(400, 16, 1);
    const b = gaussian(400, 16, 2);
    const shifted = gaussian(400, 16, 3, 0.5);
    const same = await kernelInceptionDistance(a, b, { subsets: 20, subsetSize: 200 });
    const apart = await kernelInceptionDistance(a, shifted, { subsets: 20, subsetSize: 200 });
    expect(same.subset_size).toBe(200);
    // Unbiased: the mean sits within a few standard errors of 0 (the spread is per subset).
    expect(Math.abs(same.kid)).toBeLessThan((3 * same.kid_std) / Math.sqrt(20) + 1e-3);
    expect(apart.kid).toBeGreaterThan(20 * Math.abs(same.kid));
    expect(apart.kid - 3 * apart.kid_std).toBeGreaterThan(0);
    // Seeded: the same call repeats itself.
    expect((await kernelInceptionDistance(a, b, { subsets: 20, subsetSize: 200 })).kid).toBe(
      same.kid,
    );
  });
});

describe('precision and recall (k = 3)', () => {
  /** n points uniform on [x0, x0 + w] × [0, 1]. */
  const uniform = (n: number, x0: number, w: number, seed: number): FeatureRows => {
    const rng = createRng(seed);
    const data = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) data.set([x0 + w * rng(), rng()], 2 * i);
    return { data, n };
  };

  it('a generator covering half the real manifold: precision ≈ 1, recall ≈ 0.5', async () => {
    const real = uniform(1200, 0, 2, 1);
    const half = uniform(600, 0, 1, 2);
    const before = tf.memory().numTensors;
    const { precision, recall, k } = await precisionRecall(real, half);
    expect(tf.memory().numTensors).toBe(before);
    expect(k).toBe(3);
    expect(precision).toBeGreaterThan(0.97);
    expect(recall).toBeGreaterThan(0.42);
    expect(recall).toBeLessThan(0.58);
  });

  it('samples off the manifold have precision ≈ 0', async () => {
    const real = uniform(600, 0, 1, 3);
    const away = uniform(600, 5, 1, 4);
    expect((await precisionRecall(real, away)).precision).toBe(0);
  });
});

describe('copies', () => {
  it('flags a generator that returns training images, not one drawing new ones', async () => {
    const train = gaussian(800, 8, 5);
    const heldOut = gaussian(300, 8, 6);
    const copier: FeatureRows = { data: train.data.slice(0, 200 * 8), n: 200 };
    const fresh = gaussian(200, 8, 7);
    const before = tf.memory().numTensors;
    const c = await copyCheck(train, heldOut, copier);
    expect(tf.memory().numTensors).toBe(before);
    expect(c.copies).toBe(1);
    expect(c.closest[0]).toMatchObject({ distance: 0 });
    expect(c.closest.every((p) => p.train === p.sample)).toBe(true);
    expect((await copyCheck(train, heldOut, fresh)).copies).toBeLessThan(0.05);
  });
});

describe('compareSamples', () => {
  const real = gaussian(600, 8, 10);
  // μ, Σ of a whole row set, as the cached reference statistics are.
  let stats: FeatureStats;
  beforeAll(async () => {
    stats = await statsOfRows(gaussian(3000, 8, 11));
  });

  it('two draws of one generator: no verdict, both intervals span 0', async () => {
    const before = tf.memory().numTensors;
    const r = await compareSamples(real, stats, gaussian(600, 8, 12), gaussian(600, 8, 13), {
      replicates: 40,
      subsets: 10,
    });
    expect(r.better).toBeNull();
    expect(r.fid_ci95[0]).toBeLessThan(0);
    expect(r.fid_ci95[1]).toBeGreaterThan(0);
    expect(r.kid_ci95[0]).toBeLessThan(0);
    expect(r.kid_ci95[1]).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a generator off by 0.3σ in every feature loses, whichever side it is on', async () => {
    const good = gaussian(600, 8, 14);
    const off = gaussian(600, 8, 15, 0.3);
    const ab = await compareSamples(real, stats, good, off, { replicates: 40, subsets: 10 });
    expect(ab.better).toBe('A');
    expect(ab.fid_diff).toBeLessThan(0);
    expect(ab.fid_ci95[1]).toBeLessThan(0);
    expect(ab.kid_ci95[1]).toBeLessThan(0);
    expect(
      (await compareSamples(real, stats, off, good, { replicates: 40, subsets: 10 })).better,
    ).toBe('B');
  });

  it('refuses sample counts too small for a covariance on half the samples', async () => {
    await expect(
      compareSamples(real, stats, gaussian(16, 8, 1), gaussian(16, 8, 2)),
    ).rejects.toThrow(/at least 18 samples/);
  });
});
