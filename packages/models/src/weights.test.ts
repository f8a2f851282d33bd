import '@tensorflow/tfjs-backend-cpu';

import * as tf from '@tensorflow/tfjs-core';
import { loadLayersModel, type LayersModel } from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';

import { DEFAULT_DCGAN_CONFIG } from './config';
import { buildGenerator } from './dcgan';
import { createGan, generate, trainStep } from './gan';
import { seededLatents } from './latent';
import {
  artifactsToFiles,
  filesToArtifacts,
  float32ToFloat16Bits,
  loadModelFromFiles,
  modelToArtifacts,
  quantizeArtifacts,
} from './weights';

/**
 * Stated bound: with uint8 weights (one affine range per tensor), generator outputs on fixed
 * latents stay within 0.15 of float32 in tanh units ([-1, 1]), i.e. under 20 of 255 grey levels;
 * float16 stays within 0.01.
 */
const UINT8_MAX_ABS_ERROR = 0.15;
const FLOAT16_MAX_ABS_ERROR = 0.01;

const config = { ...DEFAULT_DCGAN_CONFIG, ngf: 8, ndf: 8 };

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A generator a few steps into training, so batch-norm statistics are not at their initial values. */
async function trainedGenerator() {
  const gan = createGan(config);
  const real = tf.tidy(() =>
    tf.tanh<tf.Tensor4D>(tf.randomNormal([8, 32, 32, 3], 0, 1, 'float32', 5)),
  );
  for (let s = 0; s < 3; s++) await trainStep(gan, real, s);
  real.dispose();
  const generator = gan.generator;
  gan.discriminator.dispose();
  gan.dOptimizer.dispose();
  gan.gOptimizer.dispose();
  return generator;
}

async function maxAbsDiff(a: LayersModel, b: LayersModel): Promise<number> {
  const z = tf.tensor2d(seededLatents(11, 16, config.latentDim), [16, config.latentDim]);
  const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(generate(a, z), generate(b, z)))));
  const value = (await diff.data())[0]!;
  tf.dispose([z, diff]);
  return value;
}

describe('TF.js layers weight format', () => {
  it('float32 round trip through model.json + shard reproduces outputs exactly', async () => {
    const g = await trainedGenerator();
    const files = artifactsToFiles(await modelToArtifacts(g));
    expect(files.modelJson.format).toBe('layers-model');
    expect(files.modelJson.weightsManifest[0]!.paths).toEqual(['weights.bin']);
    const back = await loadModelFromFiles(
      JSON.parse(JSON.stringify(files.modelJson)),
      files.weights,
    );
    expect(await maxAbsDiff(g, back)).toBe(0);
    g.dispose();
    back.dispose();
  });

  it('reads a shard that is a view inside a larger buffer (Node pools small files)', async () => {
    const g = await trainedGenerator();
    const files = artifactsToFiles(await modelToArtifacts(g));
    // Node's Buffer: slice() is a view, and a small file's bytes sit at an offset in a shared pool.
    class NodeLikeBuffer extends Uint8Array {
      override slice(start?: number, end?: number) {
        return this.subarray(start, end);
      }
    }
    const pool = new NodeLikeBuffer(files.weights.byteLength + 300).fill(0x7f);
    pool.set(files.weights, 100);
    const view = pool.subarray(100, 100 + files.weights.byteLength);
    const back = await loadModelFromFiles(JSON.parse(JSON.stringify(files.modelJson)), view);
    expect(await maxAbsDiff(g, back)).toBe(0);
    g.dispose();
    back.dispose();
  });

  it('uint8 and float16 use the standard quantization field, load in stock tf.loadLayersModel, and stay within bounds', async () => {
    const g = await trainedGenerator();
    const artifacts = await modelToArtifacts(g);
    const f32 = artifactsToFiles(quantizeArtifacts(artifacts, 'float32'));
    for (const [dtype, bound, ratio] of [
      ['uint8', UINT8_MAX_ABS_ERROR, 4],
      ['float16', FLOAT16_MAX_ABS_ERROR, 2],
    ] as const) {
      const files = artifactsToFiles(quantizeArtifacts(artifacts, dtype));
      const specs = files.modelJson.weightsManifest[0]!.weights;
      expect(specs.every((s) => s.quantization?.dtype === dtype)).toBe(true);
      if (dtype === 'uint8')
        expect(specs[0]!.quantization).toMatchObject({
          min: expect.any(Number) as number,
          scale: expect.any(Number) as number,
        });
      expect(f32.weights.byteLength / files.weights.byteLength).toBeCloseTo(ratio, 1);
      // Stock loader, no project code between the bytes and the model.
      const loaded = await loadLayersModel(
        tf.io.fromMemory({
          modelTopology: files.modelJson.modelTopology,
          weightSpecs: specs,
          weightData: files.weights.slice().buffer,
        }),
      );
      const err = await maxAbsDiff(g, loaded);
      expect(err).toBeGreaterThan(0);
      expect(err).toBeLessThan(bound);
      loaded.dispose();
    }
    g.dispose();
  });

  it('float16 encoding agrees with tfjs’ own decoder, including rounding, subnormals and overflow', () => {
    const values = [0, -0, 1, -2.5, 65504, 70000, 1e-7, 6.1e-5, 3.14159, -1e-3, 0.1];
    const bits = new Uint16Array(values.map(float32ToFloat16Bits));
    const map = tf.io.decodeWeights(new Uint8Array(bits.buffer).buffer, [
      { name: 'w', shape: [values.length], dtype: 'float32', quantization: { dtype: 'float16' } },
    ]);
    const decoded = map['w']!.dataSync();
    values.forEach((v, i) => {
      const d = decoded[i]!;
      if (Math.abs(v) > 65520) expect(d).toBe(Infinity);
      else expect(Math.abs(d - v)).toBeLessThanOrEqual(Math.max(Math.abs(v) * 2 ** -11, 2 ** -25));
    });
  });

  it('zero weights stay exactly zero under uint8', () => {
    const values = new Float32Array([-0.3, 0, 0.7, 0, 0.123]);
    const q = quantizeArtifacts(
      {
        modelTopology: {},
        weightSpecs: [{ name: 'w', shape: [5], dtype: 'float32' }],
        weightData: values.buffer,
      },
      'uint8',
    );
    const back = tf.io.decodeWeights(q.weightData!, q.weightSpecs!)['w']!.dataSync();
    expect(back[1]).toBe(0);
    expect(back[3]).toBe(0);
    expect(Math.abs(back[4]! - 0.123)).toBeLessThan(1 / 255);
  });

  it('a shard that does not match its manifest gets a clear error', async () => {
    const g = buildGenerator({ ...config, ngf: 2 });
    const files = artifactsToFiles(await modelToArtifacts(g));
    expect(() => filesToArtifacts(files.modelJson, files.weights.subarray(1))).toThrow(
      /weights shard is \d+ bytes, the manifest needs \d+/,
    );
    expect(() => filesToArtifacts({ hello: 1 }, files.weights)).toThrow(
      /not a TF.js layers model.json/,
    );
    g.dispose();
  });
});
