/**
 * The class-conditional pair: G(z, y) = G(z ⊙ embed(y)), and the
 * projection discriminator D(x, y) = ψ(φ(x)) + embed(y)ᵀ φ(x) (Miyato & Koyama 2018, eq. 3).
 */
import '@tensorflow/tfjs-backend-cpu';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';

import { DEFAULT_DCGAN_CONFIG, type DcganConfig } from './config';
import { buildDiscriminator, buildGenerator, classCountOf, discriminatorFeatures } from './dcgan';
import { createGan, disposeGan, generate, trainStep, updateEma } from './gan';
import { interpolateClasses, sampleSeeds, seedLatents } from './sample';
import { modelToArtifacts } from './weights';

const tiny: DcganConfig = { ...DEFAULT_DCGAN_CONFIG, ngf: 4, ndf: 4, latentDim: 16, classes: 3 };

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('conditional nets', () => {
  it('G has two inputs and the parameter count worked out by hand', () => {
    const g = buildGenerator({ ...DEFAULT_DCGAN_CONFIG, ngf: 32, classes: 10 });
    expect(g.inputs.map((i) => i.shape)).toEqual([
      [null, 100],
      [null, 1],
    ]);
    expect(g.outputs[0]!.shape).toEqual([null, 32, 32, 3]);
    const ngf = 32;
    const expected =
      10 * 100 + // class table [classes, latentDim]
      100 * 4 * 4 * 8 * ngf + // projection of z ⊙ e, no bias
      4 * 8 * ngf + // its batch norm: γ, β, moving mean, moving variance
      4 * 4 * 4 * ngf * 8 * ngf +
      4 * 4 * ngf + // up1 + BN
      4 * 4 * 2 * ngf * 4 * ngf +
      4 * 2 * ngf + // up2 + BN
      4 * 4 * 3 * 2 * ngf +
      3; // to_rgb with bias
    expect(g.countParams()).toBe(expected);
    expect(classCountOf(g)).toBe(10);
    g.dispose();
  });

  it('D adds a projection table [classes, F] and nothing else', () => {
    const config = { ...DEFAULT_DCGAN_CONFIG, ndf: 8, classes: 10 };
    const d = buildDiscriminator(config);
    const plain = buildDiscriminator({ ...config, classes: undefined });
    expect(discriminatorFeatures(config)).toBe(4 * 4 * 4 * 8);
    expect(d.countParams() - plain.countParams()).toBe(10 * 4 * 4 * 4 * 8);
    expect(d.outputs[0]!.shape).toEqual([null, 1]);
    d.dispose();
    plain.dispose();
  });

  it('the projection term equals ψ(φ(x)) + V[y]·φ(x) by hand', () => {
    const d = buildDiscriminator({ ...tiny, ndf: 2 });
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 5);
    const y = tf.tensor2d([[2], [0]]);
    // φ(x): D's own layers up to the flatten, run as a model of their own.
    const phiModel = tfl.model({
      inputs: d.inputs[0]!,
      outputs: d.getLayer('flatten').output,
    });
    const phi = phiModel.predict(x) as tf.Tensor2D; // → [2, F]
    const [w, b] = d.getLayer('logit').getWeights() as [tf.Tensor2D, tf.Tensor1D];
    const [table] = d.getLayer('class_projection').getWeights() as [tf.Tensor2D];
    const phiRows = phi.arraySync();
    const wv = w.dataSync();
    const tableRows = table.arraySync();
    const expected = [2, 0].map((cls, n) => {
      const f = phiRows[n]!;
      const psi = f.reduce((s, v, i) => s + v * wv[i]!, b.dataSync()[0]!);
      return psi + f.reduce((s, v, i) => s + v * tableRows[cls]![i]!, 0);
    });
    const got = (d.predict([x, y]) as tf.Tensor).dataSync();
    expect(got[0]).toBeCloseTo(expected[0]!, 4);
    expect(got[1]).toBeCloseTo(expected[1]!, 4);
    tf.dispose([x, y, phi]); // getWeights() returns the variables' own values: not ours to free
    d.dispose();
  });

  it('the class changes the image for a fixed z; a wrong class is refused', () => {
    const g = buildGenerator(tiny);
    const a = sampleSeeds(g, 7, 1, Infinity, 0);
    const b = sampleSeeds(g, 7, 1, Infinity, 2);
    const again = sampleSeeds(g, 7, 1, Infinity, 0);
    // At initialisation (weights ~N(0, 0.02)) images are faint; the class still moves them as
    // much as a different z does.
    const other = sampleSeeds(g, 8, 1, Infinity, 0);
    const gap = (p: tf.Tensor, q: tf.Tensor) => tf.max(tf.abs(tf.sub(p, q))).dataSync()[0]!;
    expect(gap(a, b)).toBeGreaterThan(0.1 * gap(a, other));
    expect(Array.from(again.dataSync())).toEqual(Array.from(a.dataSync()));
    const z = tf.zeros<tf.Rank.R2>([1, 16]);
    expect(() => generate(g, z)).toThrow(/conditional: give one class per sample/);
    expect(() => generate(g, z, [3])).toThrow(/class 3 is not one of 0–2/);
    tf.dispose([a, b, again, other, z]);
    g.dispose();
  });

  it('trains a step with labels, moves both class tables and leaks no tensors', async () => {
    const gan = createGan(tiny, undefined, undefined, 0.99);
    const real = tf.tidy(() =>
      tf.tanh<tf.Tensor4D>(tf.randomNormal([6, 32, 32, 3], 0, 1, 'float32', 1)),
    );
    const labels = tf.tensor2d([[0], [1], [2], [0], [1], [2]]);
    const gTable = gan.generator.getLayer('class_embedding').getWeights()[0]!.dataSync().slice();
    const dTable = gan.discriminator
      .getLayer('class_projection')
      .getWeights()[0]!
      .dataSync()
      .slice();
    await trainStep(gan, real, 1, labels); // warm-up: optimizer slots are created once
    const before = tf.memory().numTensors;
    const m = await trainStep(gan, real, 2, labels);
    updateEma(gan, 2);
    expect(tf.memory().numTensors).toBe(before);
    expect([m.dLoss, m.gLoss].every(Number.isFinite)).toBe(true);
    const moved = (a: ArrayLike<number>, l: tfl.layers.Layer) =>
      Math.max(
        ...l
          .getWeights()[0]!
          .dataSync()
          .map((v, i) => Math.abs(v - a[i]!)),
      );
    expect(moved(gTable, gan.generator.getLayer('class_embedding'))).toBeGreaterThan(0);
    expect(moved(dTable, gan.discriminator.getLayer('class_projection'))).toBeGreaterThan(0);
    await expect(trainStep(gan, real, 3)).rejects.toThrow(/needs the batch's classes/);
    tf.dispose([real, labels]);
    disposeGan(gan);
  });

  it('a stock tf.loadLayersModel runs the saved generator with two inputs', async () => {
    const g = buildGenerator(tiny);
    const saved = await modelToArtifacts(g);
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved));
    const z = tf.randomNormal([2, 16], 0, 1, 'float32', 3);
    const y = tf.tensor2d([[1], [2]], [2, 1], 'int32');
    const a = loaded.predict([z, y]) as tf.Tensor;
    const b = generate(g, z as tf.Tensor2D, [1, 2]);
    expect(a.shape).toEqual([2, 32, 32, 3]);
    expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(1e-5);
    tf.dispose([z, y, a, b]);
    g.dispose();
    loaded.dispose();
  });
});

describe('interpolating between classes', () => {
  it('ends on the two classes exactly and passes through images of neither', () => {
    const g = buildGenerator(tiny);
    const z = seedLatents(11, 1, 16);
    const before = tf.memory().numTensors;
    interpolateClasses(g, z, 0, 2, 5).dispose();
    expect(tf.memory().numTensors).toBe(before);
    const path = interpolateClasses(g, z, 0, 2, 5);
    expect(path.shape).toEqual([5, 32, 32, 3]);
    const a = sampleSeeds(g, 11, 1, Infinity, 0);
    const b = sampleSeeds(g, 11, 1, Infinity, 2);
    const gap = (p: tf.Tensor, q: tf.Tensor) =>
      tf.tidy(() => tf.max(tf.abs(tf.sub(p, q))).dataSync()[0]!);
    const step = (i: number) => tf.slice(path, [i, 0, 0, 0], [1, -1, -1, -1]);
    expect(gap(step(0), a)).toBeLessThan(1e-5);
    expect(gap(step(4), b)).toBeLessThan(1e-5);
    expect(gap(step(2), a)).toBeGreaterThan(0);
    expect(gap(step(2), b)).toBeGreaterThan(0);
    tf.dispose([path, a, b]);
    g.dispose();
  });
});
