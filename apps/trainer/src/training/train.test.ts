import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadLayersModel } from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEFAULT_OPTIMIZER } from '@ganstudio/models/gan';
import { RunFolder, type RunConfig, type StepRecord } from '@ganstudio/runs/folder';

import { writeCifarTarGz } from '../testing/cifar-fixture';
import { Progress } from './progress';
import { train } from './train';

const quiet = { log: () => {}, progress: new Progress(process.stderr, 32, false) };
// A no-op stream keeps test output readable.
(quiet.progress as unknown as { stream: { write: () => boolean } }).stream = { write: () => true };

let data: string;
let server: Server;
let baseUrl: string;
const root = mkdtempSync(join(tmpdir(), 'train-test-'));

/** Smoke recipe: tiny widths, --limit 256 → 8 steps of 32 per epoch on the cpu backend. */
function smokeConfig(): RunConfig {
  return {
    version: 1,
    data,
    limit: 256,
    epochs: 2,
    batchSize: 32,
    optimizer: DEFAULT_OPTIMIZER,
    model: { latentDim: 16, ngf: 2, ndf: 2, loss: 'bce', seed: 3 },
    sampleEvery: 1,
    checkpointEvery: 3,
    logEvery: 2,
    sampleSeed: 3,
    sampleCount: 16,
  };
}

beforeAll(async () => {
  data = writeCifarTarGz(join(root, 'data'), 60); // 300 training images
  // Serve the run folders over HTTP so stock tf.loadLayersModel(url) loads exports as a browser would.
  server = createServer((req, res) => {
    const path = join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    if (!path.startsWith(root) || !existsSync(path)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200).end(readFileSync(path));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  baseUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('train (smoke run on a CIFAR-format fixture, cpu backend)', () => {
  const out = join(root, 'run');

  it('stops after --max-steps with a loadable checkpoint and finite logged losses', async () => {
    const before = tf.memory().numTensors;
    const result = await train({
      config: smokeConfig(),
      out,
      resume: false,
      backend: 'cpu',
      maxSteps: 5,
      ...quiet,
    });
    expect(result.backend.active).toBe('cpu');
    expect(result).toMatchObject({ finalStep: 5, totalSteps: 16, finished: false });
    expect(tf.memory().numTensors).toBe(before);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ batchSize: 32, limit: 256, backend: 'cpu', model: { ngf: 2 } });
    expect(JSON.parse(readFileSync(join(out, 'checkpoints', 'latest.json'), 'utf8'))).toMatchObject(
      { step: 5 },
    );
    // Lines at log points only: where a sitting stops writes no line of its own.
    const steps = new RunFolder(out).readMetrics() as StepRecord[];
    expect(steps.map((s) => s.step)).toEqual([2, 4]);
    for (const s of steps) {
      for (const v of [s.d_loss, s.g_loss, s.d_x, s.d_g_z, s.images_per_sec])
        expect(Number.isFinite(v)).toBe(true);
    }
  });

  it('refuses to overwrite an existing run without --resume', async () => {
    await expect(
      train({ config: smokeConfig(), out, resume: false, backend: 'cpu', ...quiet }),
    ).rejects.toThrow(/already holds a run; pass --resume/);
  });

  it('--resume continues the step count to the end, writes grids, and exports a uint8 generator stock tfjs loads', async () => {
    // A torn line, as a SIGKILL mid-append would leave, must not survive the resume.
    writeFileSync(
      join(out, 'metrics.jsonl'),
      readFileSync(join(out, 'metrics.jsonl'), 'utf8') + '{"type":"step","ep',
    );
    const result = await train({
      config: smokeConfig(),
      out,
      resume: true,
      backend: 'cpu',
      ...quiet,
    });
    expect(result).toMatchObject({ stepsRun: 11, finalStep: 16, finished: true });
    const steps = new RunFolder(out).readMetrics().map((r) => r.step);
    expect(steps).toEqual([2, 4, 6, 8, 10, 12, 14, 16]);
    expect(readdirSync(join(out, 'samples')).sort()).toEqual(['epoch-0001.png', 'epoch-0002.png']);
    const png = readFileSync(join(out, 'samples', 'epoch-0002.png'));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(readdirSync(join(out, 'checkpoints')).filter((d) => d.startsWith('step-'))).toHaveLength(
      2,
    );

    const manifest = JSON.parse(readFileSync(join(out, 'generator-uint8', 'model.json'), 'utf8'));
    expect(
      manifest.weightsManifest[0].weights.every(
        (w: { quantization?: { dtype: string } }) => w.quantization?.dtype === 'uint8',
      ),
    ).toBe(true);
    const g = await loadLayersModel(`${baseUrl}/run/generator-uint8/model.json`);
    const img = tf.tidy(() => g.predict(tf.zeros([2, 16])) as tf.Tensor);
    expect(img.shape).toEqual([2, 32, 32, 3]);
    tf.dispose(img);
    g.dispose();
  });

  it('a run interrupted and resumed ends with the same weights as one that never stopped', async () => {
    const straight = join(root, 'straight');
    // With the generator EMA on, so its average is checkpointed and restored exactly as well.
    const config = { ...smokeConfig(), epochs: 1, ema: 0.9 };
    await train({ config, out: straight, resume: false, backend: 'cpu', ...quiet });
    const split = join(root, 'split');
    mkdirSync(split);
    await train({ config, out: split, resume: false, backend: 'cpu', maxSteps: 4, ...quiet });
    await train({ config, out: split, resume: true, backend: 'cpu', ...quiet });
    const weights = (dir: string, net = 'generator') =>
      readFileSync(join(dir, 'checkpoints', 'step-00000008', net, 'weights.bin'));
    expect(weights(split).equals(weights(straight))).toBe(true);
    expect(weights(split, 'generator-ema').equals(weights(straight, 'generator-ema'))).toBe(true);
    // The average differs from the raw weights (it is not a copy).
    expect(weights(straight, 'generator-ema').equals(weights(straight))).toBe(false);
  });

  it('a NaN loss reloads the last good checkpoint, says so, and the run still finishes cleanly', async () => {
    const out = join(root, 'nan');
    const lines: string[] = [];
    const result = await train({
      config: { ...smokeConfig(), epochs: 1 },
      out,
      resume: false,
      backend: 'cpu',
      injectNanAtStep: 5,
      ...quiet,
      log: (l) => lines.push(l),
    });
    expect(
      lines.some((l) =>
        /non-finite loss at step 5 .*reloaded the last good checkpoint \(step 3\)/.test(l),
      ),
    ).toBe(true);
    expect(result).toMatchObject({ finished: true, finalStep: 8 });
    const steps = new RunFolder(out).readMetrics() as StepRecord[];
    expect(steps.map((s) => s.step)).toEqual([2, 4, 6, 8]);
    expect(steps.every((s) => Number.isFinite(s.d_loss) && Number.isFinite(s.g_loss))).toBe(true);
  });
});
