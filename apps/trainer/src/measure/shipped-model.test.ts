/**
 * The generator every fresh clone shows (@ganstudio/bundled's default run) is not mode-collapsed:
 * 256 seeded samples are spread out about as far as real CIFAR-10 images are.
 * Distances are RMS per-pixel differences in [-1, 1] units; 256 real test images measure a mean
 * of ~0.67 and a nearest pair of ~0.24 (docs/model-card.md). A collapsed generator has pairs at ~0.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { defaultRunPath } from '@ganstudio/bundled';
import { sampleSeeds } from '@ganstudio/models/gan';

import { releaseBackend, selectBackend } from '../backend';
import { loadCifar10 } from '../data/cifar';
import { REAL_CIFAR10 } from '../testing/cifar-fixture';
import { loadModel } from '../training/model-io';
import { sampleSpread } from './evaluate';
import { imageBatches } from './features';

const SHIPPED = join(defaultRunPath(), 'generator-uint8');
const DATA = REAL_CIFAR10;
const N = 256;

const present = DATA !== '' && existsSync(DATA);
if (!present)
  console.warn(
    `shipped-model: the comparison with real images is skipped: ${DATA || 'CIFAR10_PATH is not set'}${DATA ? ' not found' : ''} (set CIFAR10_PATH to cifar-10-binary.tar.gz)`,
  );

let samples: { mean: number; min: number };

beforeAll(async () => {
  await selectBackend('wasm');
  const generator = await loadModel(SHIPPED);
  const images = sampleSeeds(generator, 1, N);
  const flat = tf.reshape<tf.Rank.R2>(images, [N, 32 * 32 * 3]);
  samples = await sampleSpread(flat);
  tf.dispose([images, flat]);
  generator.dispose();
}, 300_000);
afterAll(() => releaseBackend());

describe('the shipped generator', () => {
  it('gives 256 distinct, well-spread samples (no mode collapse)', () => {
    expect(existsSync(join(SHIPPED, 'model.json'))).toBe(true);
    expect(samples.min).toBeGreaterThan(0.05); // no two samples (near-)identical
    expect(samples.mean).toBeGreaterThan(0.3);
  });

  it.skipIf(!present)(
    'is about as spread as 256 real CIFAR-10 test images (needs the dataset)',
    async () => {
      const images = imageBatches(loadCifar10(DATA, 'test'))(0, N);
      const real = tf.reshape<tf.Rank.R2>(images, [N, 3072]);
      const reference = await sampleSpread(real);
      tf.dispose([images, real]);
      // As spread as real images, within a factor the 1-epoch model already clears.
      expect(samples.mean).toBeGreaterThan(0.6 * reference.mean);
      expect(samples.min).toBeGreaterThan(0.3 * reference.min);
    },
  );
});
