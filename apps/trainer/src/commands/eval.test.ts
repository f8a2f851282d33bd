/**
 * FID and IS end to end through the CLI: train-classifier, FID/IS during training with the best
 * generator kept, `eval --json` with its cached reference statistics, and the Inception path
 * through a small stand-in with Keras InceptionV3's layer names, from a folder and over HTTP.
 * The sanity scale (real < generator < noise) needs a real classifier on real data: real-data.test.ts.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import '@tensorflow/tfjs-backend-cpu';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { sampleSpread } from '@ganstudio/models/eval';
import { sampleSeeds } from '@ganstudio/models/gan';
import { decodePng } from '@ganstudio/models/image';
import { RunFolder } from '@ganstudio/runs/folder';

import { takesBest } from '../measure/tracker';
import { smokeTrainArgs, writeCifarTarGz } from '../testing/cifar-fixture';
import { BIN } from '../testing/cli';
import { loadModel, saveModel } from '../training/model-io';

const root = mkdtempSync(join(tmpdir(), 'eval-test-'));
const data = writeCifarTarGz(join(root, 'data'), 64); // 320 train, 64 test images

/** The CLI in a child process; asynchronous, so this process can serve the model over HTTP meanwhile. */
function cli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, GANSTUDIO_CWD: root, CI: '1' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const classifierRun = join(root, 'cls');
const classifier = join(classifierRun, 'classifier-uint8');
const ganRun = join(root, 'gan');
const EVAL_KEYS = [
  'fid',
  'is_mean',
  'is_std',
  'feature_network',
  'samples',
  'reference',
  'kid',
  'kid_std',
  'precision',
  'recall',
  'copies',
  'passport',
];

beforeAll(async () => {
  const r = await cli(
    'train-classifier',
    '--data',
    data,
    '--epochs',
    '2',
    '--width',
    '2',
    '--batch-size',
    '32',
    '--backend',
    'cpu',
    '--out',
    classifierRun,
  );
  expect(r.stderr).toMatch(/epoch 2: test accuracy \d+\.\d\d%/);
  expect(r.code).toBe(0);
}, 600_000);

describe('train-classifier', () => {
  it('exports a uint8 classifier that carries its test accuracy, with one metrics line per epoch', () => {
    const json = JSON.parse(readFileSync(join(classifier, 'model.json'), 'utf8'));
    expect(json.userDefinedMetadata.feature_network).toBe('cifar10-classifier');
    expect(json.userDefinedMetadata.test_accuracy).toBeGreaterThanOrEqual(0);
    expect(json.userDefinedMetadata.test_accuracy).toBeLessThanOrEqual(1);
    expect(new RunFolder(classifierRun).readMetrics().map((l) => l.epoch)).toEqual([1, 2]);
  });

  it('continues from a trained classifier with --init, and refuses a folder that is not one', async () => {
    const warm = join(root, 'cls-warm');
    const common = ['--data', data, '--epochs', '1', '--batch-size', '32', '--backend', 'cpu'];
    // A learning rate of ~0 keeps the weights: the warm run must score what the exported model did.
    const r = await cli(
      'train-classifier',
      ...common,
      '--lr',
      '1e-6',
      '--init',
      classifier,
      '--out',
      warm,
    );
    expect(r.code).toBe(0);
    const before = JSON.parse(
      readFileSync(join(classifier, 'model.json'), 'utf8'),
    ).userDefinedMetadata;
    const after = JSON.parse(
      readFileSync(join(warm, 'classifier-uint8', 'model.json'), 'utf8'),
    ).userDefinedMetadata;
    expect(after).toMatchObject({ init: classifier, width: 2 });
    expect(Math.abs(after.test_accuracy - before.test_accuracy)).toBeLessThanOrEqual(2 / 64); // uint8 rounding
    const bad = await cli(
      'train-classifier',
      ...common,
      '--init',
      join(root, 'data'),
      '--out',
      join(root, 'cls-bad'),
    );
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/^error: --init .*not a classifier model folder/m);
    expect(bad.stderr).not.toMatch(/\n\s+at /); // no stack
  }, 600_000);
});

describe('FID during training', () => {
  it('logs classifier FID per epoch and at the end, and keeps the best generator', async () => {
    const r = await cli(
      ...smokeTrainArgs(
        data,
        ganRun,
        128,
        32,
        '--epochs',
        '2',
        '--fid-every',
        '1',
        '--fid-samples',
        '48',
        '--fid-final-samples',
        '64',
        '--fid-classifier',
        classifier,
      ),
    );
    expect(r.code).toBe(0);
    const fid = readFileSync(join(ganRun, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((m) => m.type === 'fid');
    expect(fid.map((m) => [m.epoch, m.samples])).toEqual([
      [1, 48],
      [2, 48],
      [2, 64],
    ]);
    for (const m of fid) {
      expect(Number.isFinite(m.fid) && m.fid > 0).toBe(true);
      expect(m.feature_network).toMatch(/^cifar10-classifier@[0-9a-f]{12}$/);
      expect(m.weights).toBe('ema'); // the smoke run tracks the default EMA, and samples it
      expect(m.reference).toMatch(/^cifar10-train@sha256:[0-9a-f]{16}\(320\)$/);
      // KID with its spread and precision/recall beside every FID, and the passport they share.
      expect(m.kid_std).toBeGreaterThan(0);
      expect(Math.abs(m.kid)).toBeLessThan(100);
      for (const share of [m.precision, m.recall]) expect(share >= 0 && share <= 1).toBe(true);
      expect(m.passport).toEqual({
        feature_network: m.feature_network,
        resize: 'none (32×32)',
        samples: m.samples,
        reference: {
          name: 'cifar10',
          split: 'train',
          count: 320,
          digest: expect.stringMatching(/^sha256:/),
        },
        latent_protocol: 'stream batches',
        weights: 'ema',
        quantization: 'float32',
      });
    }
    // The copy check runs once, at the end on the curve's protocol, against the images trained on.
    expect(fid.map((m) => m.copies === undefined)).toEqual([true, false, true]);
    expect(fid[1].copies >= 0 && fid[1].copies <= 1).toBe(true);
    // The floor (real test images) and ceiling (noise) on the same passport, logged as the run starts.
    const scale = readFileSync(join(ganRun, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((m) => m.type === 'scale');
    expect(scale).toHaveLength(1);
    expect(scale[0].passport).toEqual(fid[0].passport);
    // (Their order needs a real classifier on real photos: real-data.test.ts.)
    for (const point of [scale[0].floor, scale[0].ceiling])
      for (const key of ['fid', 'kid', 'kid_std', 'precision', 'recall'])
        expect(Number.isFinite(point[key]), key).toBe(true);
    // The best follows the spread-aware rule over the periodic lines, not the lowest FID.
    const periodic = fid.filter((m) => m.samples === 48);
    let state: Parameters<typeof takesBest>[1] = { best: Infinity, lowest: undefined };
    let bestEpoch = 0;
    for (const m of periodic) {
      const rule = takesBest(m, state);
      state = { best: rule.best ? m.fid : state.best, lowest: rule.lowest };
      if (rule.best) bestEpoch = m.epoch;
    }
    const best = JSON.parse(readFileSync(join(ganRun, 'best.json'), 'utf8'));
    expect(best.epoch).toBe(bestEpoch);
    expect(best.kid).toBe(periodic.find((m) => m.epoch === bestEpoch).kid);
    expect(best.lowest.kid).toBe(Math.min(...periodic.map((m) => m.kid)));
    expect(existsSync(join(ganRun, 'generator-best', 'model.json'))).toBe(true);
    // Measurement ran on wasm though the run trained on cpu.
    expect(fid.every((m) => m.backend === 'wasm')).toBe(true);
    // Every number names its feature network and its reference set.
    expect(r.stderr).toMatch(
      /epoch 2 \(CIFAR-10 classifier features, 64 samples vs cifar10-train@sha256:[0-9a-f]{16}\(320\)\): FID \d+\.\d{3}, IS/,
    );
  }, 600_000);
});

describe('ganstudio bundle', () => {
  const lines = (path: string) =>
    readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
  const run = () => lines(join(ganRun, 'metrics.jsonl'));
  const bytes = (...p: string[]) => readFileSync(join(...p));

  it('trims a run to what the gallery ships: same grids, same uint8 weights, FIDs of those weights', async () => {
    // The smoke run tracks the default EMA, so by default the bundle ships what the run sampled.
    const out = join(root, 'bundle-all');
    const r = await cli('bundle', ganRun, '--out', out, '--name', 'Tiny', '--backend', 'cpu');
    expect(r.stderr).toMatch(/bundled epoch 2 \(ema weights\)/);
    expect(r.code).toBe(0);
    for (const grid of ['epoch-0001.png', 'epoch-0002.png'])
      expect(bytes(out, 'samples', grid)).toEqual(bytes(ganRun, 'samples', grid));
    // The run's own export is its last epoch's sampled weights: the bundle's must be the same bytes.
    expect(bytes(out, 'generator-uint8', 'weights.bin')).toEqual(
      bytes(ganRun, 'generator-uint8', 'weights.bin'),
    );
    const bundled = lines(join(out, 'metrics.jsonl'));
    expect(bundled.filter((m) => m.type === 'step')).toEqual(
      run().filter((m) => m.type === 'step'),
    );
    // The periodic protocol only (48 samples), one line per epoch, right after that epoch's last step.
    const fid = bundled.filter((m) => m.type === 'fid');
    expect(fid.map((m) => [m.epoch, m.samples, m.weights])).toEqual([
      [1, 48, 'ema'],
      [2, 48, 'ema'],
    ]);
    const logged = run().filter((m) => m.type === 'fid' && m.samples === 48);
    expect(fid.map((m) => m.fid)).toEqual(logged.map((m) => m.fid));
    // KID, precision/recall, the copy share and the passport travel with each line, and the
    // run's floor and ceiling come first.
    for (const key of ['kid', 'kid_std', 'precision', 'recall', 'passport'])
      expect(fid.map((m) => m[key])).toEqual(logged.map((m) => m[key]));
    expect(fid[1].copies).toBe(logged[1].copies);
    const scale = bundled.findIndex((m) => m.type === 'scale');
    expect(bundled[scale]).toEqual(run().find((m) => m.type === 'scale'));
    expect(scale).toBeLessThan(bundled.findIndex((m) => m.type === 'step'));
    expect(bundled[bundled.indexOf(fid[0]) - 1]).toMatchObject({ type: 'step', step: fid[0].step });
    expect(JSON.parse(readFileSync(join(out, 'card.json'), 'utf8'))).toEqual({ name: 'Tiny' });
  }, 600_000);

  it("an earlier epoch's FID, measured again with the run's protocol, repeats the logged value", async () => {
    const out = join(root, 'bundle-1');
    const r = await cli(
      'bundle',
      ganRun,
      '--out',
      out,
      '--epoch',
      '1',
      '--measure',
      '--backend',
      'cpu',
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/epoch 1 \(ema\): FID [\d.]+ .*measured/);
    expect(readdirSync(join(out, 'samples'))).toEqual(['epoch-0001.png']);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).epochs).toBe(1);
    const bundled = lines(join(out, 'metrics.jsonl'));
    expect(bundled.filter((m) => m.type === 'step').every((m) => m.epoch === 1)).toBe(true);
    const logged = run().find((m) => m.type === 'fid' && m.epoch === 1);
    const [measured] = bundled.filter((m) => m.type === 'fid');
    expect(measured.fid).toBeCloseTo(logged.fid, 6);
    expect(measured.step).toBe(logged.step);
  }, 600_000);

  it('raw weights of an EMA run: their own grids, weights and measured FIDs, labelled raw', async () => {
    const out = join(root, 'bundle-raw');
    const r = await cli('bundle', ganRun, '--out', out, '--weights', 'raw', '--backend', 'cpu');
    expect(r.code).toBe(0);
    expect(bytes(out, 'samples', 'epoch-0002.png')).not.toEqual(
      bytes(ganRun, 'samples', 'epoch-0002.png'),
    );
    expect(bytes(out, 'generator-uint8', 'weights.bin')).not.toEqual(
      bytes(ganRun, 'generator-uint8', 'weights.bin'),
    );
    const fid = lines(join(out, 'metrics.jsonl')).filter((m) => m.type === 'fid');
    expect(fid.map((m) => [m.epoch, m.weights])).toEqual([
      [1, 'raw'],
      [2, 'raw'],
    ]);
    expect(r.stderr.match(/measured/g)).toHaveLength(2);
  }, 600_000);

  it('refuses an epoch the run has not kept, in one line', async () => {
    const r = await cli('bundle', ganRun, '--out', join(root, 'bundle-3'), '--epoch', '3');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^error: .*no ema generator kept for epoch 3 /m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('ganstudio eval', () => {
  const evalJson = async (...extra: string[]) => {
    const r = await cli(
      'eval',
      '--data',
      data,
      '--classifier',
      classifier,
      '--backend',
      'cpu',
      '--json',
      ...extra,
    );
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    return { result: JSON.parse(lines[0]!), stderr: r.stderr };
  };

  it('prints one JSON line, caches the reference statistics, and repeats itself', async () => {
    const first = await evalJson('--model', ganRun, '--samples', '60');
    expect(Object.keys(first.result).sort()).toEqual([...EVAL_KEYS].sort());
    expect(first.result.samples).toBe(60);
    expect(first.result.reference).toMatch(/^cifar10-train@sha256:[0-9a-f]{16}\(320\)$/);
    // The protocol travels with the number: every field a comparison must match.
    expect(first.result.passport).toMatchObject({
      feature_network: first.result.feature_network,
      resize: 'none (32×32)',
      samples: 60,
      reference: { name: 'cifar10', split: 'train', count: 320 },
      latent_protocol: 'stream batches',
      // A run folder resolves to its newest checkpoint: the raw float32 generator.
      weights: 'raw',
      quantization: 'float32',
    });
    expect(first.result.passport.reference.digest).toMatch(/^sha256:[0-9a-f]{16}$/);
    for (const share of ['precision', 'recall', 'copies']) {
      expect(first.result[share]).toBeGreaterThanOrEqual(0);
      expect(first.result[share]).toBeLessThanOrEqual(1);
    }
    // 60 samples: KID's subsets are 30 of them (half), so its spread is a spread, not 0.
    expect(first.result.kid_std).toBeGreaterThan(0);
    expect(Number.isFinite(first.result.kid)).toBe(true);
    // This test file's own cache folder (src/testing/fresh-cache.ts), keyed by content.
    const cache = join(process.env['GANSTUDIO_CACHE'] ?? '', 'fid');
    // (The training run above, on a --limit, measured against its own first images: -first<N>.)
    const bins = readdirSync(cache).filter((f) => f.endsWith('.bin') && !f.includes('-first'));
    // The reference moments once, the train split's rows once (written in the same pass: every
    // count reads the first rows of it), and rows of the held-out test split per count asked.
    expect(bins.filter((f) => !f.includes('-rows'))).toHaveLength(1);
    expect(bins.filter((f) => /-train-rows\d+\.bin$/.test(f))).toEqual([
      expect.stringMatching(/-train-rows320\.bin$/),
    ]);
    expect(bins.filter((f) => /-test-rows60\.bin$/.test(f))).toHaveLength(1);
    const second = await evalJson(
      '--model',
      ganRun,
      '--samples',
      '60',
      '--copies-grid',
      'near.png',
    );
    expect(second.stderr).not.toMatch(/computing (reference statistics|features)/);
    expect(second.result.fid).toBeCloseTo(first.result.fid, 6);
    expect(second.result.kid).toBeCloseTo(first.result.kid, 9);
    // The 8 closest pairs, sample beside its nearest training image, 4× scale.
    const grid = decodePng(readFileSync(join(root, 'near.png')));
    expect([grid.width, grid.height]).toEqual([2 + 2 * (128 + 2), 2 + 8 * (128 + 2)]);
  }, 600_000);

  it('--truncation: the measured trade of Brock et al. 2019, labelled, and refused where it means nothing', async () => {
    const plain = await evalJson('--model', ganRun, '--samples', '60');
    const cut = await evalJson('--model', ganRun, '--samples', '60', '--truncation', '0.5');
    expect(cut.result.truncation).toBe(0.5);
    expect(plain.result.truncation).toBeUndefined();
    expect(cut.result.fid).not.toBeCloseTo(plain.result.fid, 6);
    // Same generator and seeds: z cut at ±0.5 gives samples closer together than z ~ N(0, I).
    await tf.setBackend('cpu');
    const g = await loadModel(join(ganRun, 'generator-uint8'));
    const before = tf.memory().numTensors;
    const spread = async (t: number) => {
      const x = sampleSeeds(g, 0, 64, t);
      const flat = tf.reshape<tf.Rank.R2>(x, [64, 32 * 32 * 3]);
      const r = await sampleSpread(flat);
      tf.dispose([x, flat]);
      return r.mean;
    };
    expect(await spread(0.5)).toBeLessThan(await spread(Infinity));
    expect(tf.memory().numTensors).toBe(before);
    g.dispose();
    for (const bad of [
      ['--model', ganRun, '--truncation', '0.1'],
      ['--source', 'noise', '--truncation', '1'],
    ]) {
      const r = await cli('eval', '--data', data, ...bad);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^error: --truncation (must be|applies to)/m);
    }
  }, 600_000);

  /** `eval` of the trained generator on `samples` samples, as text (no --json). */
  const evalText = (samples: string) =>
    cli(
      'eval',
      '--data',
      data,
      '--classifier',
      classifier,
      '--model',
      ganRun,
      '--samples',
      samples,
      '--backend',
      'cpu',
    );

  it('without --json, prints each number labelled, KID with the subsets it really used', async () => {
    const r = await evalText('60');
    expect(r.code, r.stderr).toBe(0);
    // One line of numbers, as the training log prints them, then what they were measured on.
    expect(r.stdout).toMatch(
      /^FID \d+\.\d{3}, IS \d+\.\d{3} ± \d+\.\d{3}, KID -?\d\.\d{5} ± \d\.\d{5}, precision \d+\.\d%, recall \d+\.\d%/m,
    );
    expect(r.stdout).toMatch(
      /^60 samples of .* CIFAR-10 classifier features \(cifar10-classifier@\w+\)/m,
    );
    // 60 samples: subsets of half of them, so the spread is a spread (not 60, as it once said).
    expect(r.stdout).toMatch(/^KID over 100 subsets of 30; precision and recall with k = 3/m);
    expect(r.stdout).toMatch(/^protocol: .*60 samples/m);
  }, 120_000);

  it('refuses too few samples and a missing model with one clear line', async () => {
    const few = await evalText('10');
    expect(few.code).toBe(2);
    expect(few.stderr).toMatch(/--samples 10 must exceed the feature dimension 16/);
    expect(few.stderr).not.toMatch(/\n\s+at /);
    const none = await cli('eval', '--data', data);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--model is required/);
  }, 120_000);
});

describe('Inception-v3 path (stand-in with the same interface)', () => {
  const standIn = join(root, 'inception-standin');
  let server: ReturnType<typeof createServer>;
  let url = '';

  beforeAll(async () => {
    await tf.setBackend('cpu');
    // Keras InceptionV3's contract: 299×299×3 input, `avg_pool` features, `predictions` softmax.
    const input = tfl.input({ shape: [299, 299, 3] });
    const conv = tfl.layers
      .conv2d({ filters: 40, kernelSize: 8, strides: 8, activation: 'relu' })
      .apply(input);
    const pool = tfl.layers.globalAveragePooling2d({ name: 'avg_pool' }).apply(conv);
    const predictions = tfl.layers
      .dense({ units: 7, activation: 'softmax', name: 'predictions' })
      .apply(pool);
    const model = tfl.model({ inputs: input, outputs: predictions as tfl.SymbolicTensor });
    await saveModel(model, standIn);
    model.dispose();
    server = createServer((req, res) => {
      const file = join(standIn, (req.url ?? '/').replace(/^\/+/, ''));
      if (!existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200).end(readFileSync(file));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/model.json`;
  });
  afterAll(() => server?.close());

  const inceptionEval = (source: string) =>
    cli(
      ...['eval', '--data', data, '--model', ganRun, '--feature-network', 'inception'],
      ...[
        '--inception',
        source,
        '--samples',
        '50',
        '--batch-size',
        '25',
        '--backend',
        'cpu',
        '--json',
      ],
    );

  it('loads from a folder or a URL, resizes to 299 and reports pool features and IS under its own id', async () => {
    const fromDir = await inceptionEval(standIn);
    expect(fromDir.code, fromDir.stderr).toBe(0);
    const a = JSON.parse(fromDir.stdout.trim());
    expect(a.feature_network).toMatch(/^inception-v3@[0-9a-f]{12}$/);
    expect(a.is_mean).toBeGreaterThanOrEqual(1);
    expect(a.is_mean).toBeLessThanOrEqual(7); // IS is bounded by the number of classes
    const fromUrl = await inceptionEval(url);
    expect(fromUrl.code, fromUrl.stderr).toBe(0);
    const b = JSON.parse(fromUrl.stdout.trim());
    // Same weights, same digest, same numbers, whichever way they were loaded.
    expect(b.feature_network).toBe(a.feature_network);
    expect(b.fid).toBeCloseTo(a.fid, 4);
  }, 600_000);

  it('says what is wrong when the model is not an InceptionV3', async () => {
    const r = await inceptionEval(classifier);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/not a Keras InceptionV3/);
  }, 120_000);
});
