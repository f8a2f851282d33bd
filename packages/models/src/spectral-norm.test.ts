/** Spectral normalisation (Miyato et al. 2018) against a hand-computed SVD, and in the DCGAN D. */
import '@tensorflow/tfjs-backend-cpu';

import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { DEFAULT_DCGAN_CONFIG, type DcganConfig } from './config';
import { buildDiscriminator } from './dcgan';
import { createGan, disposeGan, trainStep } from './gan';
import { powerIteration } from './spectral-norm';
import { artifactsToFiles, loadModelFromFiles, modelToArtifacts } from './weights';

const snConfig: DcganConfig = {
  ...DEFAULT_DCGAN_CONFIG,
  ngf: 4,
  ndf: 4,
  latentDim: 16,
  loss: 'hinge',
  spectralNorm: true,
};

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('power iteration', () => {
  it('converges to the largest singular value: W = [[3, 0], [4, 5]] has σ₁ = √45 (WᵀW = [[25, 20], [20, 25]], eigenvalues 45 and 5)', () => {
    const w = tf.tensor2d([
      [3, 0],
      [4, 5],
    ]);
    let u = tf.tensor1d([1, 0]);
    const sigmas: number[] = [];
    for (let i = 0; i < 30; i++) {
      const r = powerIteration(w, u);
      sigmas.push(r.sigma.dataSync()[0]!);
      r.sigma.dispose();
      u.dispose();
      u = r.u;
    }
    expect(sigmas[29]).toBeCloseTo(Math.sqrt(45), 5);
    // Each estimate is a Rayleigh-type lower bound that only grows toward σ₁.
    for (let i = 1; i < sigmas.length; i++)
      expect(sigmas[i]!).toBeGreaterThanOrEqual(sigmas[i - 1]! - 1e-5); // float32 noise at convergence
    expect(sigmas[0]!).toBeLessThanOrEqual(Math.sqrt(45) + 1e-6);
    // u is the top right singular vector: (1, 1)/√2 for this W.
    expect(Array.from(u.dataSync()).map((x) => Math.abs(x))).toEqual([
      expect.closeTo(Math.SQRT1_2, 5),
      expect.closeTo(Math.SQRT1_2, 5),
    ]);
    tf.dispose([w, u]);
  });

  it('its gradient is v uᵀ (u, v held constant), as in the paper', () => {
    const w = tf.tensor2d([
      [3, 0],
      [4, 5],
    ]);
    const u = tf.tensor1d([Math.SQRT1_2, Math.SQRT1_2]);
    const g = tf.grad((x: tf.Tensor) => {
      const r = powerIteration(x as tf.Tensor2D, u);
      r.u.dispose();
      return r.sigma;
    })(w);
    // v = W u / ‖W u‖ = (3, 9)/√90, u' = u: dσ/dW = v u'ᵀ.
    const v = [3 / Math.sqrt(90), 9 / Math.sqrt(90)];
    const expected = [
      v[0]! * Math.SQRT1_2,
      v[0]! * Math.SQRT1_2,
      v[1]! * Math.SQRT1_2,
      v[1]! * Math.SQRT1_2,
    ];
    Array.from(g.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(expected[i]!, 5));
    tf.dispose([w, u, g]);
  });
});

describe('the spectrally normalised discriminator', () => {
  it('after training passes every layer acts with spectral norm ≈ 1, and a hinge step trains it without leaking tensors', async () => {
    const gan = createGan({ ...snConfig }, { lr: 2e-4, beta1: 0, beta2: 0.9 });
    expect(gan.discriminator.layers.some((l) => l.getClassName() === 'BatchNormalization')).toBe(
      false,
    );
    const real = tf.tidy(() =>
      tf.tanh<tf.Tensor4D>(tf.randomNormal([8, 32, 32, 3], 0, 1, 'float32', 3)),
    );
    await trainStep(gan, real, 99); // the first step creates Adam's moment variables
    const before = tf.memory().numTensors;
    for (let s = 0; s < 3; s++) {
      const m = await trainStep(gan, real, 100 + s);
      expect(Number.isFinite(m.dLoss) && Number.isFinite(m.gLoss)).toBe(true);
    }
    expect(tf.memory().numTensors).toBe(before);
    // Many forward passes in training mode move u to convergence; then W/σ has top singular value 1.
    for (let i = 0; i < 60; i++)
      tf.dispose(gan.discriminator.apply(real, { training: true }) as tf.Tensor);
    for (const layer of gan.discriminator.layers.filter((l) =>
      l.getClassName().startsWith('Spectral'),
    )) {
      const [kernel] = layer.getWeights();
      const w = tf.reshape<tf.Rank.R2>(kernel!, [-1, kernel!.shape[kernel!.shape.length - 1]!]);
      let u = tf.randomNormal<tf.Rank.R1>([w.shape[1]], 0, 1, 'float32', 9);
      let sigma = 0;
      for (let i = 0; i < 200; i++) {
        const r = powerIteration(w, u);
        sigma = r.sigma.dataSync()[0]!;
        r.sigma.dispose();
        u.dispose();
        u = r.u;
      }
      const { sigma: used, u: u2 } = powerIteration(
        w,
        layer.getWeights()[layer.getWeights().length - 1] as tf.Tensor1D,
      );
      // The layer divides by its own running estimate: within 2% of the true σ₁.
      expect(used.dataSync()[0]! / sigma).toBeGreaterThan(0.98);
      tf.dispose([w, u, used, u2]);
    }
    real.dispose();
    disposeGan(gan);
  });

  it('saves and loads with its power-iteration state (u) intact: the same logits after a round trip', async () => {
    const d = buildDiscriminator(snConfig);
    const x = tf.tidy(() => tf.randomUniform([2, 32, 32, 3], -1, 1, 'float32', 4));
    tf.dispose(d.apply(x, { training: true }) as tf.Tensor); // moves u away from its initial value
    const files = artifactsToFiles(await modelToArtifacts(d));
    const back = await loadModelFromFiles(files.modelJson, files.weights);
    const [a, b] = [d.predict(x) as tf.Tensor, back.predict(x) as tf.Tensor];
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
    tf.dispose([x, a, b]);
    d.dispose();
    back.dispose();
  });

  it('refuses a spectralNorm setting that is not a boolean', () => {
    expect(() =>
      buildDiscriminator({ ...snConfig, spectralNorm: 'yes' as unknown as boolean }),
    ).toThrow(/spectralNorm must be true or false/);
  });
});
