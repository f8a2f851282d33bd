/**
 * The generator every fresh clone shows (the default run's generator-uint8) is not mode-collapsed:
 * 256 seeded samples are spread out about as far as 256 real CIFAR-10 test images (the judge
 * game's real set, shipped beside it) are. Distances are RMS per-pixel differences in [-1, 1]
 * units; real test images measure a mean of ~0.67 and a nearest pair of ~0.24
 * (docs/model-card.md). A collapsed generator has pairs at ~0.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';

import '@tensorflow/tfjs-backend-cpu';

import { beforeAll, describe, expect, it } from 'vitest';

import { sampleSpread } from '@ganstudio/models/eval';
import { sampleSeeds } from '@ganstudio/models/gan';
import { loadModelFromFiles } from '@ganstudio/models/weights';

import { bundledArtifacts, defaultRunPath } from './index';

const N = 256;
let samples: { mean: number; min: number };
let real: { mean: number; min: number };

beforeAll(async () => {
  await tf.setBackend('cpu');
  const dir = join(defaultRunPath(), 'generator-uint8');
  const generator = await loadModelFromFiles(
    JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')),
    new Uint8Array(readFileSync(join(dir, 'weights.bin'))),
  );
  const before = tf.memory().numTensors;
  const images = sampleSeeds(generator, 1, N); // [N, 32, 32, 3] in [-1, 1]
  const flat = tf.reshape<tf.Rank.R2>(images, [N, 32 * 32 * 3]);
  samples = await sampleSpread(flat);
  tf.dispose([images, flat]);
  expect(tf.memory().numTensors).toBe(before);
  generator.dispose();

  // The real set: count × 3,072 bytes of RGB, as `ganstudio real-set` writes it.
  const realSet = bundledArtifacts().find((a) => a.kind === 'real-set')!;
  const bytes = readFileSync(join(realSet.path, 'images.bin')).subarray(0, N * 3072);
  const pixels = tf.tidy(() =>
    tf.sub<tf.Tensor2D>(tf.div(tf.tensor2d(bytes, [N, 3072], 'float32'), 127.5), 1),
  );
  real = await sampleSpread(pixels);
  pixels.dispose();
}, 300_000);

describe('the shipped generator', () => {
  it('gives 256 distinct, well-spread samples (no mode collapse)', () => {
    expect(samples.min).toBeGreaterThan(0.05); // no two samples (near-)identical
    expect(samples.mean).toBeGreaterThan(0.3);
  });

  it('is about as spread as 256 real CIFAR-10 test images', () => {
    expect(real.mean).toBeGreaterThan(0.5); // the real set reads as photographs, not noise or blanks
    // As spread as real images, within a factor the 1-epoch model already clears.
    expect(samples.mean).toBeGreaterThan(0.6 * real.mean);
    expect(samples.min).toBeGreaterThan(0.3 * real.min);
  });
});
