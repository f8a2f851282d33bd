/**
 * Trains a few steps from the real CIFAR-10 file when it is on this machine
 * (CIFAR10_PATH names it; `.ci/run` sets it where a copy is at hand).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { bundledPath, defaultRunPath } from '@ganstudio/bundled';
import { DEFAULT_OPTIMIZER } from '@ganstudio/models/gan';

import { releaseBackend, selectBackend } from '../backend';
import { loadCifar10 } from '../data/cifar';
import { testAccuracy } from '../measure/classifier-train';
import { evaluateImages } from '../measure/evaluate';
import {
  generatorBatches,
  imageBatches,
  loadFeatureNetwork,
  noiseBatches,
  shippedClassifierDir,
} from '../measure/features';
import { referenceRows, referenceStats } from '../measure/reference';
import { REAL_CIFAR10 } from '../testing/cifar-fixture';
import { runCli } from '../testing/cli';
import { loadModel } from './model-io';
import { train } from './train';

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

  it(
    'a smoke run on a cold cache measures in proportion: against its own images plus 5,000, on wasm',
    { timeout: 900_000 },
    () => {
      const root = mkdtempSync(join(tmpdir(), 'cold-'));
      const cache = process.env['GANSTUDIO_CACHE'];
      process.env['GANSTUDIO_CACHE'] = join(root, 'cache'); // a fresh clone's machine: nothing cached
      const started = performance.now();
      let r;
      try {
        r = runCli(
          root,
          ...['train', '--data', DATA, '--backend', 'cpu', '--epochs', '1', '--limit', '256'],
          ...['--ngf', '8', '--ndf', '8', '--fid-samples', '1000', '--out', 'run'],
        );
      } finally {
        if (cache === undefined) delete process.env['GANSTUDIO_CACHE'];
        else process.env['GANSTUDIO_CACHE'] = cache;
      }
      const wall = (performance.now() - started) / 1000;
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/computing reference statistics of 5256 train images/);
      const lines = readFileSync(join(root, 'run', 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const training = Math.max(...lines.map((l) => Number(l['elapsed_s'] ?? 0)));
      const fid = lines.find((l) => l['type'] === 'fid') as {
        backend: string;
        passport: { reference: { name: string; split: string; count: number } };
      };
      expect(fid.backend).toBe('wasm');
      expect(fid.passport.reference).toMatchObject({
        name: 'cifar10',
        split: 'train',
        count: 5256,
      });
      // Everything that is not training (start, data, reference passes, measurement, export):
      // ~1 min here, where a 50,000-image pass on the cpu backend took hours.
      expect(wall - training).toBeLessThan(training + 120);
    },
  );

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
      const generator = await loadModel(join(defaultRunPath(), 'generator-uint8'));
      try {
        const reference = await referenceStats(network, DATA);
        const n = 2000;
        const test = loadCifar10(DATA, 'test');
        // KID and precision/recall against the first n training images; the copy check against
        // all 50,000, with test images 0 … n − 1 as its held-out scale and n … 2n − 1 as samples.
        const train = await referenceRows(network, DATA);
        const heldOut = await referenceRows(network, DATA, { split: 'test', count: n });
        const rows = { train, heldOut };
        const later = imageBatches(test);
        const real = await evaluateImages(network, reference, (s, k) => later(n + s, k), n, {
          rows,
        });
        const shipped = await evaluateImages(
          network,
          reference,
          generatorBatches(generator, 0),
          n,
          {
            rows,
          },
        );
        const noise = await evaluateImages(network, reference, noiseBatches(0), n, { rows });
        // Real images on the real manifold, covering it, KID within a few spreads of 0, no copies.
        expect(real.precision).toBeGreaterThan(0.7);
        expect(real.recall).toBeGreaterThan(0.7);
        expect(Math.abs(real.kid!)).toBeLessThan(4 * real.kid_std! + 1e-4);
        expect(real.copies).toBeLessThan(0.03);
        // Noise is nowhere near it; the shipped generator is in between on KID.
        expect(noise.precision).toBeLessThan(0.05);
        expect(noise.kid!).toBeGreaterThan(10 * shipped.kid!);
        expect(shipped.kid!).toBeGreaterThan(real.kid! + 4 * shipped.kid_std!);
        expect(shipped.copies).toBeLessThan(0.03);
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
        const accuracy = await testAccuracy(classifier, loadCifar10(DATA, 'test'));
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

/**
 * `eval --compare` on the real data: the verdict needs both intervals clear of 0, so the shipped
 * generator against itself under another latent seed has none, and against a 40-step toy it wins.
 */
describe.skipIf(!present || !existsSync(join(shippedClassifierDir(), 'model.json')))(
  'eval --compare',
  () => {
    const shipped = defaultRunPath();
    const root = mkdtempSync(join(tmpdir(), 'compare-'));
    const compare = (...args: string[]) => {
      const r = runCli(
        root,
        'eval',
        '--compare',
        ...args,
        '--data',
        DATA,
        '--samples',
        '600',
        '--json',
      );
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as {
        better: string | null;
        fid_diff: number;
        fid_ci95: [number, number];
        kid_ci95: [number, number];
        passport: { samples: number; latent_protocol: string };
      };
    };

    it('the shipped generator against itself under another seed: no verdict', () => {
      const r = compare(shipped, shipped, '--seed-b', '7');
      expect(r.better).toBeNull();
      expect(r.fid_ci95[0]).toBeLessThan(0);
      expect(r.fid_ci95[1]).toBeGreaterThan(0);
      expect(r.passport).toMatchObject({ samples: 600, latent_protocol: 'stream batches' });
    }, 900_000);

    it('the shipped generator against a 40-step toy: A', () => {
      const toy = join(root, 'toy');
      const t = runCli(
        root,
        'train',
        '--data',
        DATA,
        '--limit',
        '2560',
        '--epochs',
        '1',
        '--batch-size',
        '64',
        '--ngf',
        '8',
        '--ndf',
        '8',
        '--fid-every',
        '0',
        '--out',
        toy,
      );
      expect(t.code, t.stderr).toBe(0);
      const r = compare(shipped, toy);
      expect(r.better).toBe('A');
      expect(r.fid_ci95[1]).toBeLessThan(0);
      expect(r.kid_ci95[1]).toBeLessThan(0);
      // A conditional generator draws its samples by class: not the same latent protocol.
      const refused = runCli(
        root,
        'eval',
        '--compare',
        shipped,
        bundledPath('cdcgan-cifar10'),
        '--data',
        DATA,
        '--samples',
        '600',
      );
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(
        /^error: A and B cannot be measured on one protocol: latent_protocol differs/m,
      );
    }, 900_000);
  },
);
