import '@tensorflow/tfjs-backend-cpu';

import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { DEFAULT_DCGAN_CONFIG, type DcganConfig } from './config';
import {
  adamBetaPower,
  createGan,
  disposeGan,
  restoreAdam,
  samplingGenerator,
  trainStep,
  updateEma,
} from './gan';
import { discriminatorLoss, generatorLoss } from './losses';

const tiny: DcganConfig = { ...DEFAULT_DCGAN_CONFIG, ngf: 4, ndf: 4, latentDim: 16 };

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const realBatch = (seed: number) =>
  tf.tidy(() => tf.tanh<tf.Tensor4D>(tf.randomNormal([8, 32, 32, 3], 0, 1, 'float32', seed)));

describe('losses', () => {
  it('non-saturating BCE matches −log σ by hand', () => {
    const real = tf.tensor2d([[2], [-1]]);
    const fake = tf.tensor2d([[0.5], [-3]]);
    const sp = (x: number) => Math.log1p(Math.exp(x));
    const d = discriminatorLoss('bce', real, fake).dataSync()[0]!;
    expect(d).toBeCloseTo((sp(-2) + sp(1)) / 2 + (sp(0.5) + sp(-3)) / 2, 5);
    expect(generatorLoss('bce', fake).dataSync()[0]).toBeCloseTo((sp(-0.5) + sp(3)) / 2, 5);
  });

  it('hinge matches its definition by hand', () => {
    const real = tf.tensor2d([[2], [0.5]]);
    const fake = tf.tensor2d([[-2], [0.25]]);
    // relu(1 − 2) = 0, relu(1 − 0.5) = 0.5; relu(1 − 2) = 0, relu(1 + 0.25) = 1.25
    expect(discriminatorLoss('hinge', real, fake).dataSync()[0]).toBeCloseTo(0.25 + 0.625, 6);
    expect(generatorLoss('hinge', fake).dataSync()[0]).toBeCloseTo(0.875, 6);
  });
});

describe('trainStep', () => {
  it('returns finite losses, changes both nets and leaks no tensors', async () => {
    const gan = createGan(tiny);
    const real = realBatch(1);
    const g0 = gan.generator.getWeights()[0]!.dataSync().slice();
    const d0 = gan.discriminator.getWeights()[0]!.dataSync().slice();
    await trainStep(gan, real, 1); // first step creates the optimizers' slots
    const before = tf.memory().numTensors;
    for (let step = 2; step < 6; step++) {
      const m = await trainStep(gan, real, step);
      for (const v of [m.dLoss, m.gLoss, m.dReal, m.dFake]) expect(Number.isFinite(v)).toBe(true);
      expect(m.dReal).toBeGreaterThan(0);
      expect(m.dReal).toBeLessThan(1);
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(gan.generator.getWeights()[0]!.dataSync()).not.toEqual(g0);
    expect(gan.discriminator.getWeights()[0]!.dataSync()).not.toEqual(d0);
    real.dispose();
    disposeGan(gan);
  });

  it('the discriminator learns to separate a fixed real batch from early fakes', async () => {
    const gan = createGan({ ...tiny, loss: 'hinge' }, { lr: 2e-3, beta1: 0.5, beta2: 0.999 });
    const real = realBatch(2);
    let last = await trainStep(gan, real, 0);
    const first = last;
    for (let step = 1; step < 15; step++) last = await trainStep(gan, real, step);
    expect(last.dReal - last.dFake).toBeGreaterThan(first.dReal - first.dFake);
    real.dispose();
    disposeGan(gan);
  });

  it('is deterministic for the same seeds', async () => {
    const run = async () => {
      const gan = createGan(tiny);
      const real = realBatch(3);
      const out = [];
      for (const s of [0, 1, 2]) out.push(await trainStep(gan, real, s));
      real.dispose();
      disposeGan(gan);
      return out;
    };
    expect(await run()).toEqual(await run());
  });

  it('refuses optimiser settings outside their range', () => {
    expect(() => createGan(tiny, { lr: 0, beta1: 0.5, beta2: 0.999 })).toThrow(/lr must be in/);
    expect(() => createGan(tiny, { lr: 2e-4, beta1: 1, beta2: 0.999 })).toThrow(/beta1 must be in/);
  });
});

describe('TTUR: separate learning rates for D and G (Heusel et al. 2017)', () => {
  it("Adam's first step moves each weight by its net's learning rate: D by lrD, G by lr", async () => {
    // Step 1 of Adam: m̂ = g, v̂ = g², so Δw = lr·g / (|g| + ε) ≈ ±lr wherever |g| ≫ ε.
    const gan = createGan(tiny, { lr: 1e-4, beta1: 0.5, beta2: 0.999, lrD: 4e-4 });
    const snapshot = (m: typeof gan.generator) =>
      m.trainableWeights.map((w) => w.read().dataSync().slice());
    const [g0, d0] = [snapshot(gan.generator), snapshot(gan.discriminator)];
    const real = realBatch(5);
    await trainStep(gan, real, 11);
    real.dispose();
    const largest = (before: ArrayLike<number>[], m: typeof gan.generator) =>
      Math.max(
        ...m.trainableWeights.flatMap((w, i) =>
          Array.from(w.read().dataSync(), (v, k) => Math.abs(v - before[i]![k]!)),
        ),
      );
    expect(largest(d0, gan.discriminator)).toBeCloseTo(4e-4, 6);
    expect(largest(g0, gan.generator)).toBeCloseTo(1e-4, 6);
    disposeGan(gan);
  });

  it('refuses a D learning rate outside (0, 1)', () => {
    for (const lrD of [0, -1e-4, 1, Number.NaN])
      expect(() => createGan(tiny, { lr: 2e-4, beta1: 0.5, beta2: 0.999, lrD })).toThrow(
        /lrD must be in \(0, 1\)/,
      );
  });
});

describe('generator EMA', () => {
  it('moves each weight by (1 − d) toward G, with the warm-up decay, and leaks no tensors', async () => {
    const gan = createGan(tiny, undefined, undefined, 0.999);
    const ema = gan.ema!.generator;
    // Starts as an exact copy of G.
    expect(Array.from(ema.getWeights()[0]!.dataSync())).toEqual(
      Array.from(gan.generator.getWeights()[0]!.dataSync()),
    );
    const real = realBatch(3);
    await trainStep(gan, real, 5);
    const before = ema.getWeights().map((w) => w.dataSync().slice());
    const g = gan.generator.getWeights().map((w) => w.dataSync().slice());
    const n0 = tf.memory().numTensors;
    updateEma(gan, 1);
    expect(tf.memory().numTensors).toBe(n0);
    const d = Math.min(0.999, 2 / 11); // warm-up: (1 + step) / (10 + step)
    const after = ema.getWeights().map((w) => w.dataSync());
    for (const [i, w] of after.entries()) {
      const j = Math.min(7, w.length - 1);
      expect(w[j]).toBeCloseTo(d * before[i]![j]! + (1 - d) * g[i]![j]!, 5);
    }
    // G itself changed and the average lags behind it.
    expect(after[0]![0]).not.toBeCloseTo(g[0]![0]!, 7);
    expect(samplingGenerator(gan)).toBe(ema);
    real.dispose();
    disposeGan(gan);
  });

  it('rejects a decay outside (0, 1)', () => {
    expect(() => createGan(tiny, undefined, undefined, 1)).toThrow(/ema decay/);
  });
});

describe('restoreAdam', () => {
  /**
   * `steps` Adam updates on a moving quadratic. Weights near 0.05 with lr 0.05: an update moves
   * each by several of its float32 ulps, so a last-bit change in β₂ᵗ shows in the weights.
   */
  const adam = () => tf.train.adam(0.05, 0.5, 0.999, 1e-8);
  const fit = (opt: tf.AdamOptimizer, w: tf.Variable, steps: number) => {
    for (let i = 0; i < steps; i++)
      opt
        .minimize(() => tf.sum(tf.square(tf.sub(w, tf.scalar(0.03 * (i % 3))))), true, [w])
        ?.dispose();
  };
  /** A copy of `w` and a fresh Adam given `opt`'s saved state, as a resumed run gets them. */
  const resume = async (w: tf.Variable, opt: tf.AdamOptimizer, betaPowers: 'replayed' | 'pow') => {
    const copy = tf.tidy(() => tf.variable(tf.clone(w)));
    const copyOpt = adam();
    const saved = await opt.getWeights();
    // tfjs keys each slot by its variable's name: the copy takes the saved slots.
    const named = saved.map((x, i) => ({
      name: i === 0 ? x.name : `${copy.name}/${x.name.split('/').pop()}`,
      tensor: tf.clone(x.tensor),
    }));
    await restoreAdam(copyOpt, named, betaPowers);
    tf.dispose([saved[0]!.tensor, ...named.map((x) => x.tensor)]); // the iteration scalars, clones
    return { copy, copyOpt };
  };

  it('puts back the β powers training kept: the next update is bit for bit the same', async () => {
    const before = tf.memory().numTensors;
    // From t = 18 on, pow(0.999, t + 1) and the running float32 product differ in the last bit.
    const steps = 40;
    expect(adamBetaPower(0.999, steps + 1)).not.toBe(
      Math.fround(Math.pow(Math.fround(0.999), steps + 2)),
    );
    const w = tf.tidy(() => tf.variable(tf.linspace(0.01, 0.1, 64)));
    const opt = adam();
    fit(opt, w, steps);
    const exact = await resume(w, opt, 'replayed');
    // tfjs's own rebuild (pow): what made resumed runs drift from the run that never stopped.
    const drifting = await resume(w, opt, 'pow');
    for (const [o, v] of [
      [opt, w],
      [exact.copyOpt, exact.copy],
      [drifting.copyOpt, drifting.copy],
    ] as const)
      fit(o, v, 1);
    const next = Array.from(await w.data());
    expect(Array.from(await exact.copy.data())).toEqual(next);
    expect(Array.from(await drifting.copy.data())).not.toEqual(next);

    tf.dispose([w, exact.copy, drifting.copy]);
    [opt, exact.copyOpt, drifting.copyOpt].forEach((o) => o.dispose());
    expect(tf.memory().numTensors).toBe(before);
  });
});
