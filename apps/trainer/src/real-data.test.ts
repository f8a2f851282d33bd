/**
 * Trains a few steps from the real CIFAR-10 file when it is on this machine
 * (CIFAR10_PATH names it; `.ci/run` sets it where a copy is at hand).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { DEFAULT_OPTIMIZER } from '@ganstudio/models/gan';

import { releaseBackend, selectBackend } from './backend';
import { loadCifar10 } from './cifar';
import { testAccuracy } from './classifier-train';
import {
  evaluateImages,
  generatorBatches,
  imageBatches,
  loadFeatureNetwork,
  noiseBatches,
  referenceStats,
  shippedClassifierDir,
} from './evaluate';
import { loadModel } from './model-io';
import { REAL_CIFAR10 } from './testing/cifar-fixture';
import { train } from './train';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const DATA = REAL_CIFAR10;
const present = DATA !== '' && existsSync(DATA);
if (!present)
  console.warn(
    `real-data tests skipped: ${DATA ? `${DATA} not found` : 'CIFAR10_PATH is not set'} (set CIFAR10_PATH to cifar-10-binary.tar.gz to run them)`,
  );

describe.skipIf(!present)(`real CIFAR-10 (${DATA})`, () => {
  it('holds 50,000 training and 10,000 test images with balanced labels', () => {
    const trainSet = loadCifar10(DATA, 'train');
    expect(trainSet.count).toBe(50_000);
    const perClass = new Array(10).fill(0);
    for (const l of trainSet.labels) perClass[l]++;
    expect(perClass).toEqual(new Array(10).fill(5000));
    expect(loadCifar10(DATA, 'test').count).toBe(10_000);
    // Natural images, not noise: mean pixel near the documented 0.48 (of 255).
    let sum = 0;
    for (let i = 0; i < 3072 * 1000; i++) sum += trainSet.pixels[i]!;
    expect(sum / (3072 * 1000) / 255).toBeGreaterThan(0.4);
    expect(sum / (3072 * 1000) / 255).toBeLessThan(0.56);
  });

  it('trains a few steps from the file and writes a run folder', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'real-')), 'run');
    const result = await train({
      config: {
        version: 1,
        data: DATA,
        limit: 256,
        epochs: 1,
        batchSize: 64,
        optimizer: DEFAULT_OPTIMIZER,
        model: { latentDim: 100, ngf: 4, ndf: 4, loss: 'bce', seed: 1 },
        sampleEvery: 1,
        checkpointEvery: 100,
        logEvery: 1,
        sampleSeed: 1,
        sampleCount: 16,
      },
      out,
      resume: false,
      backend: 'cpu',
      log: () => {},
    });
    expect(result).toMatchObject({ finished: true, finalStep: 4 });
    expect(readdirSync(join(out, 'samples'))).toEqual(['epoch-0001.png']);
    expect(existsSync(join(out, 'generator-uint8', 'model.json'))).toBe(true);
  });
});

/**
 * FID's sanity scale with the shipped classifier on the real data: real test images sit far
 * below the shipped generator, which sits far below uniform noise. Uses eval's own code path and
 * the cached reference statistics (computed on first use, ~2 min on wasm).
 */
describe.skipIf(!present || !existsSync(join(shippedClassifierDir(), 'model.json')))(
  'FID scale with the shipped classifier',
  () => {
    it('real test images < shipped generator < noise, and IS of real images is high', async () => {
      await selectBackend('wasm');
      const network = await loadFeatureNetwork('classifier');
      const generator = await loadModel(
        join(REPO, 'apps', 'web', 'bundled', 'default-run', 'generator-uint8'),
      );
      try {
        const reference = await referenceStats(network, DATA);
        const n = 2000;
        const real = evaluateImages(network, reference, imageBatches(loadCifar10(DATA, 'test')), n);
        const shipped = evaluateImages(network, reference, generatorBatches(generator, 0), n);
        const noise = evaluateImages(network, reference, noiseBatches(0), n);
        expect(real.fid).toBeLessThan(shipped.fid / 2);
        expect(shipped.fid).toBeLessThan(noise.fid / 2);
        expect(real.is_mean).toBeGreaterThan(shipped.is_mean);
        // 10 classes: 1 means no class information; the shipped classifier (label smoothing 0.1,
        // 85% accurate) gives real test images ~4.5.
        expect(real.is_mean).toBeGreaterThan(3);
        // The shipped weights classify the test set as well as their metadata says.
        const shippedJson = JSON.parse(
          readFileSync(join(shippedClassifierDir(), 'model.json'), 'utf8'),
        ) as { userDefinedMetadata: { test_accuracy_uint8: number } };
        const classifier = await loadModel(shippedClassifierDir());
        const accuracy = testAccuracy(classifier, loadCifar10(DATA, 'test'));
        classifier.dispose();
        expect(accuracy).toBeCloseTo(shippedJson.userDefinedMetadata.test_accuracy_uint8, 3);
      } finally {
        generator.dispose();
        network.dispose();
        releaseBackend();
      }
    }, 900_000);
  },
);
