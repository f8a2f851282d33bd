import '@tensorflow/tfjs-backend-cpu';

import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';

import { DEFAULT_DCGAN_CONFIG, type DcganConfig } from './config';
import { buildDiscriminator, buildGenerator } from './dcgan';

const tiny: DcganConfig = { ...DEFAULT_DCGAN_CONFIG, ngf: 4, ndf: 4, latentDim: 8 };

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('DCGAN architecture (Radford et al. 2015)', () => {
  it('generator maps z to 32×32×3 images in [-1, 1]', () => {
    const g = buildGenerator(tiny);
    const out = tf.tidy(() => g.predict(tf.randomNormal([5, 8])) as tf.Tensor);
    expect(out.shape).toEqual([5, 32, 32, 3]);
    const [min, max] = [tf.min(out).dataSync()[0]!, tf.max(out).dataSync()[0]!];
    expect(min).toBeGreaterThanOrEqual(-1);
    expect(max).toBeLessThanOrEqual(1);
    out.dispose();
    g.dispose();
  });

  it('generator is dense → 4×4×8ngf, two up-convs with BN+ReLU, tanh up-conv to RGB', () => {
    const g = buildGenerator({ ...DEFAULT_DCGAN_CONFIG });
    const kinds = g.layers.map((l) => l.getClassName());
    expect(kinds).toEqual([
      'Dense',
      'Reshape',
      'BatchNormalization',
      'ReLU',
      'Conv2DTranspose',
      'BatchNormalization',
      'ReLU',
      'Conv2DTranspose',
      'BatchNormalization',
      'ReLU',
      'Conv2DTranspose',
    ]);
    expect(g.layers[1]!.outputShape).toEqual([null, 4, 4, 512]);
    expect(g.layers[4]!.outputShape).toEqual([null, 8, 8, 256]);
    expect(g.layers[7]!.outputShape).toEqual([null, 16, 16, 128]);
    expect(g.layers[10]!.getConfig()['activation']).toBe('tanh');
    // No bias before batch norm; each BN holds γ, β and two moving statistics per channel.
    const bn = (c: number) => 4 * c;
    expect(g.countParams()).toBe(
      100 * 8192 +
        bn(512) +
        4 * 4 * 512 * 256 +
        bn(256) +
        4 * 4 * 256 * 128 +
        bn(128) +
        4 * 4 * 128 * 3 +
        3,
    );
    g.dispose();
  });

  it('discriminator: three stride-2 convs with LeakyReLU(0.2), no BN on the first, one logit', () => {
    const d = buildDiscriminator({ ...DEFAULT_DCGAN_CONFIG });
    const kinds = d.layers.map((l) => l.getClassName());
    expect(kinds).toEqual([
      'Conv2D',
      'LeakyReLU',
      'Conv2D',
      'BatchNormalization',
      'LeakyReLU',
      'Conv2D',
      'BatchNormalization',
      'LeakyReLU',
      'Flatten',
      'Dense',
    ]);
    expect(d.layers[1]!.getConfig()['alpha']).toBeCloseTo(0.2);
    expect(d.layers[5]!.outputShape).toEqual([null, 4, 4, 256]);
    expect(d.outputs[0]!.shape).toEqual([null, 1]);
    // Logits, not probabilities: the last layer has no sigmoid.
    expect(d.layers[9]!.getConfig()['activation']).toBe('linear');
    d.dispose();
  });

  it('the same seed builds identical weights; another seed does not', () => {
    const a = buildGenerator(tiny);
    const b = buildGenerator(tiny);
    const c = buildGenerator({ ...tiny, seed: 7 });
    const w = (m: typeof a) => m.getWeights()[0]!.dataSync();
    expect(Array.from(w(a))).toEqual(Array.from(w(b)));
    expect(Array.from(w(a))).not.toEqual(Array.from(w(c)));
    // N(0, 0.02) initialisation (paper §4).
    const values = Array.from(w(a));
    const std = Math.sqrt(values.reduce((s, v) => s + v * v, 0) / values.length);
    expect(std).toBeGreaterThan(0.015);
    expect(std).toBeLessThan(0.025);
    [a, b, c].forEach((m) => m.dispose());
  });

  it('the shipped narrow generator (ngf 32): 4·4·256 → 8·8·128 → 16·16·64 → 32·32·3, 1,069,827 weights by hand', () => {
    const g = buildGenerator({ ...DEFAULT_DCGAN_CONFIG, ngf: 32 });
    const shapes = g.layers
      .filter((l) => /^(to_map|up\d|to_rgb)$/.test(l.name))
      .map((l) => (l.outputShape as number[]).slice(1));
    expect(shapes).toEqual([
      [4, 4, 256],
      [8, 8, 128],
      [16, 16, 64],
      [32, 32, 3],
    ]);
    // dense 100·4096 + BN 4·256 + up1 4·4·256·128 + BN 4·128 + up2 4·4·128·64 + BN 4·64 + to_rgb 4·4·64·3 + 3 biases
    const byHand =
      100 * 4096 + 4 * 256 + 16 * 256 * 128 + 4 * 128 + 16 * 128 * 64 + 4 * 64 + 16 * 64 * 3 + 3;
    expect(g.countParams()).toBe(byHand);
    expect(byHand).toBe(1_069_827);
    g.dispose();
  });

  it("64×64 (the paper's Figure 1 at ngf 128): 4·4·1024 → 8·8·512 → 16·16·256 → 32·32·128 → 64·64·3, and its mirror D", () => {
    const config: DcganConfig = { ...DEFAULT_DCGAN_CONFIG, ngf: 128, ndf: 64, resolution: 64 };
    const g = buildGenerator(config);
    const stages = (m: LayersModel, pattern: RegExp) =>
      m.layers.filter((l) => pattern.test(l.name)).map((l) => (l.outputShape as number[]).slice(1));
    expect(stages(g, /^(to_map|up\d|to_rgb)$/)).toEqual([
      [4, 4, 1024],
      [8, 8, 512],
      [16, 16, 256],
      [32, 32, 128],
      [64, 64, 3],
    ]);
    const byHand =
      100 * 16384 +
      4 * 1024 +
      16 * 1024 * 512 +
      4 * 512 +
      16 * 512 * 256 +
      4 * 256 +
      16 * 256 * 128 +
      4 * 128 +
      16 * 128 * 3 +
      3;
    expect(g.countParams()).toBe(byHand);
    const d = buildDiscriminator(config);
    expect(stages(d, /^down\d$/)).toEqual([
      [32, 32, 64],
      [16, 16, 128],
      [8, 8, 256],
      [4, 4, 512],
    ]);
    const sn = buildDiscriminator({ ...config, ndf: 4, spectralNorm: true });
    expect(sn.outputs[0]!.shape).toEqual([null, 1]);
    expect(sn.inputs[0]!.shape).toEqual([null, 64, 64, 3]);
    const out = tf.tidy(
      () => d.predict(g.predict(tf.randomNormal([2, 100])) as tf.Tensor) as tf.Tensor,
    );
    expect(out.shape).toEqual([2, 1]);
    out.dispose();
    [g, d, sn].forEach((m) => m.dispose());
  });

  it('resolution 32 is the default: the same layers and weights as a config without the field', () => {
    const a = buildGenerator(tiny);
    const b = buildGenerator({ ...tiny, resolution: 32 });
    const [wa, wb] = [a.getWeights(), b.getWeights()];
    expect(wb.map((w) => w.shape)).toEqual(wa.map((w) => w.shape));
    wa.forEach((w, i) => expect(Array.from(wb[i]!.dataSync())).toEqual(Array.from(w.dataSync())));
    expect(() => buildGenerator({ ...tiny, resolution: 48 as never })).toThrow(
      /resolution must be one of 32, 64/,
    );
    [a, b].forEach((m) => m.dispose());
  });

  it('rejects bad widths and losses with a message naming the field', () => {
    expect(() => buildGenerator({ ...tiny, ngf: 0 })).toThrow(/ngf must be an integer/);
    expect(() => buildDiscriminator({ ...tiny, ndf: 2.5 })).toThrow(/ndf must be an integer/);
    expect(() => buildGenerator({ ...tiny, loss: 'wgan' as never })).toThrow(
      /loss must be one of bce, hinge/,
    );
  });
});
