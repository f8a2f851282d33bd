/**
 * The webgpu backend (Dawn over Vulkan) against the cpu reference, on whatever adapter this machine
 * opens: in CI that is Mesa's software lavapipe, which .ci/run sets up (.ci/lavapipe.sh), and a CI
 * run with no adapter fails here; elsewhere the suite says why it is skipped.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, describe, expect, it } from 'vitest';

import { classify, collectFeatures } from '@ganstudio/models/eval';
import {
  buildGenerator,
  createGan,
  DEFAULT_DCGAN_CONFIG,
  disposeGan,
  trainStep,
  updateEma,
  type DcganConfig,
  type Gan,
} from '@ganstudio/models/gan';
import { decodePng } from '@ganstudio/models/image';

import { releaseBackend, selectBackend } from './backend';
import { evaluateGenerator } from './measure/evaluate';
import { loadFeatureNetwork, noiseBatches, shippedClassifierDir } from './measure/features';
import { smokeTrainArgs, writeCifarTarGz } from './testing/cifar-fixture';
import { runCli } from './testing/cli';
import { loadModel } from './training/model-io';
import { forgetAdapter, gpuDeviceNodes, probeAdapter, VULKAN_FIX } from './webgpu';

const probe = await probeAdapter();
forgetAdapter();
if (probe.failure !== undefined && process.env['CI'])
  throw new Error(`CI runs the webgpu suite on an adapter: ${probe.failure}. ${VULKAN_FIX}`);
if (probe.failure !== undefined) console.log(`webgpu suite skipped: ${probe.failure}`);
const adapter = probe.failure === undefined ? probe.adapter : undefined;

afterAll(releaseBackend);

/** The numbers a parity check compares: each step's four metrics, then every weight of G, D, EMA. */
async function threeSteps(backend: 'cpu' | 'webgpu', config: DcganConfig, init: Float32Array[][]) {
  await selectBackend(backend);
  const gan = createGan(config, { lr: 2e-4, beta1: 0.5, beta2: 0.999 }, undefined, 0.9);
  const models = (g: Gan) => [g.generator, g.discriminator, g.ema!.generator];
  models(gan).forEach((m, i) =>
    m.setWeights(init[i]!.map((values, j) => tf.tensor(values, m.getWeights()[j]!.shape))),
  );
  const losses: number[] = [];
  const steady: number[] = [];
  for (let s = 0; s < 3; s++) {
    const real = tf.tidy(() =>
      tf.tanh<tf.Tensor4D>(tf.randomNormal([8, 32, 32, 3], 0, 1, 'float32', 40 + s)),
    );
    const labels = config.classes ? tf.tensor2d([0, 1, 2, 0, 1, 2, 0, 1], [8, 1]) : undefined;
    const m = await trainStep(gan, real, 7 + s, labels);
    updateEma(gan, s);
    tf.dispose([real, ...(labels ? [labels] : [])]);
    losses.push(m.dLoss, m.gLoss, m.dReal, m.dFake);
    steady.push(tf.memory().numTensors);
  }
  const weights = await Promise.all(
    models(gan).flatMap((m) => m.getWeights().map(async (w) => (await w.data()) as Float32Array)),
  );
  disposeGan(gan);
  return { losses, weights, steady };
}

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

describe.skipIf(!adapter)(`webgpu on ${adapter?.description ?? 'no adapter'}`, () => {
  it('auto passes over a software adapter (slower than wasm) and says so', async () => {
    const info = await selectBackend('auto');
    if (adapter!.software) {
      expect(info.active).toBe('wasm');
      // With no GPU device node auto does not even load Dawn (whose older-driver refusals go
      // straight to stderr); with one, it opens the adapter and reads that it is software.
      expect(info.reason).toMatch(
        gpuDeviceNodes().length
          ? /webgpu: only a software adapter \(\w+/
          : /webgpu: no GPU device \(\/dev\/nvidia\*, \/dev\/dri\/renderD\*\), so only a software adapter/,
      );
    } else expect(info.active).toBe('webgpu');
  });

  const nets: [string, DcganConfig][] = [
    ['unconditional, BCE, with EMA', { ...DEFAULT_DCGAN_CONFIG, ngf: 4, ndf: 4, latentDim: 16 }],
    [
      'conditional, hinge, spectral norm, with EMA',
      {
        ...DEFAULT_DCGAN_CONFIG,
        ngf: 4,
        ndf: 4,
        latentDim: 16,
        classes: 3,
        loss: 'hinge',
        spectralNorm: true,
      },
    ],
  ];
  it.each(nets)(
    '3 training steps (%s) match the cpu backend within 1e-4 and leak no tensors',
    async (_name, config) => {
      await selectBackend('cpu');
      const made = createGan(config, undefined, undefined, 0.9);
      const init = [made.generator, made.discriminator, made.ema!.generator].map((m) =>
        m.getWeights().map((w) => w.dataSync() as Float32Array),
      );
      disposeGan(made);
      const cpu = await threeSteps('cpu', config, init);
      const gpu = await threeSteps('webgpu', config, init);
      expect(gpu.steady[2]).toBe(gpu.steady[1]);
      expect(maxAbs(gpu.losses, cpu.losses)).toBeLessThan(1e-4);
      expect(gpu.weights).toHaveLength(cpu.weights.length);
      const worst = Math.max(...gpu.weights.map((w, i) => maxAbs(w, cpu.weights[i]!)));
      expect(worst).toBeLessThan(1e-4);
    },
    300_000,
  );

  it('the CLI trains on webgpu, says which adapter, and exports a model stock TF.js loads', async () => {
    const root = mkdtempSync(join(tmpdir(), 'webgpu-cli-'));
    const data = writeCifarTarGz(root, 20);
    const args = smokeTrainArgs(data, join(root, 'run'), 64, 16).map((a) =>
      a === 'cpu' ? 'webgpu' : a,
    );
    const train = runCli(root, ...args);
    expect(train.code, train.stderr).toBe(0);
    const said = train.stdout + train.stderr;
    expect(said).toMatch(
      /backend: webgpu \(asked for with --backend\), adapter: \S+ \((software|hardware)\)/,
    );
    expect(said).toMatch(/finished at step 4\/4 on webgpu/);
    const out = join(root, 'uint8');
    const exported = runCli(root, 'export', '--model', 'run', '--out', out);
    expect(exported.code, exported.stderr).toBe(0);
    const json = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    await selectBackend('cpu');
    const g = await tfl.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest[0].weights,
        weightData: new Uint8Array(readFileSync(join(out, 'weights.bin'))).buffer,
      }),
    );
    const images = g.predict(tf.randomNormal([2, 8], 0, 1, 'float32', 3)) as tf.Tensor;
    expect(images.shape).toEqual([2, 32, 32, 3]);
    const pixels = await images.data();
    expect(pixels.every((v) => Number.isFinite(v) && Math.abs(v) <= 1)).toBe(true);
    tf.dispose(images);
    g.dispose();
    // `sample` on webgpu draws the cpu render of the same seeds, within 3/255 per channel.
    const grids = ['webgpu', 'cpu'].map((backend) => {
      const png = join(root, `grid-${backend}.png`);
      const r = runCli(
        root,
        'sample',
        '--model',
        'uint8',
        '--seed',
        '7',
        '--backend',
        backend,
        '--out',
        png,
      );
      expect(r.code, r.stderr).toBe(0);
      return decodePng(readFileSync(png));
    });
    expect(grids[0]!.width).toBe(grids[1]!.width);
    expect(maxAbs(grids[0]!.data, grids[1]!.data)).toBeLessThanOrEqual(3);
    // The measuring commands run on webgpu too: a classifier trained there, then `eval` of the
    // exported generator under it, which must repeat the cpu backend's numbers within 1%.
    const cls = runCli(
      root,
      'train-classifier',
      '--data',
      data,
      '--epochs',
      '1',
      '--width',
      '2',
      '--batch-size',
      '32',
      '--backend',
      'webgpu',
      '--out',
      'cls',
    );
    expect(cls.code, cls.stderr).toBe(0);
    expect(cls.stderr).toMatch(/backend: webgpu .*adapter: /);
    expect(cls.stderr).toMatch(/epoch 1: test accuracy \d+\.\d\d%/);
    const [gpu, cpu] = ['webgpu', 'cpu'].map((backend) => {
      const r = runCli(
        root,
        'eval',
        '--data',
        data,
        '--classifier',
        join('cls', 'classifier-uint8'),
        '--model',
        'uint8',
        '--samples',
        '64',
        '--backend',
        backend,
        '--json',
      );
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout.trim()) as { fid: number; kid: number; recall: number };
    });
    expect(Math.abs(gpu!.fid - cpu!.fid)).toBeLessThanOrEqual(0.01 * cpu!.fid);
    expect(Math.abs(gpu!.kid - cpu!.kid)).toBeLessThanOrEqual(0.01 * Math.abs(cpu!.kid));
    expect(gpu!.recall).toBeCloseTo(cpu!.recall, 2);
  }, 600_000);

  it("the shipped classifier's features of 64 images match the cpu backend within 1e-4", async () => {
    const features = async (backend: 'cpu' | 'webgpu') => {
      await selectBackend(backend);
      const model = await loadModel(shippedClassifierDir());
      const x = tf.tidy(() =>
        tf.tanh<tf.Tensor4D>(tf.randomNormal([64, 32, 32, 3], 0, 1, 'float32', 11)),
      );
      const [f, logits] = classify(model, x);
      const values = (await f.data()) as Float32Array;
      tf.dispose([x, f, logits]);
      model.dispose();
      return values;
    };
    const cpu = await features('cpu');
    const gpu = await features('webgpu');
    expect(gpu).toHaveLength(64 * 256);
    expect(maxAbs(gpu, cpu)).toBeLessThan(1e-4);
  }, 300_000);

  it('FID, KID and IS of one generator match the cpu backend within 1%', async () => {
    // A tiny generator from seeded initialisers (the same weights on every backend), measured
    // against uniform noise images over 320 samples each: more than the classifier's 256 feature
    // dimensions, or the covariance is singular. (Two untrained generators draw near-identical
    // grey images: a KID of ~1e-8, which no tolerance can compare.)
    const samples = 320;
    const measure = async (backend: 'cpu' | 'webgpu') => {
      await selectBackend(backend);
      const network = await loadFeatureNetwork('classifier');
      const generator = buildGenerator({
        ...DEFAULT_DCGAN_CONFIG,
        ngf: 4,
        ndf: 4,
        latentDim: 16,
        seed: 2,
      });
      try {
        const before = tf.memory().numTensors;
        const real = await collectFeatures(network, samples, 64, noiseBatches(5), {
          keepRows: true,
        });
        const result = await evaluateGenerator(
          network,
          { stats: real.stats, description: 'uniform noise' },
          generator,
          samples,
          { rows: { train: { data: real.rows!, n: samples } } },
        );
        expect(tf.memory().numTensors).toBe(before);
        return result;
      } finally {
        generator.dispose();
        network.dispose();
      }
    };
    const cpu = await measure('cpu');
    const gpu = await measure('webgpu');
    const within = (a: number, b: number) =>
      expect(Math.abs(a - b)).toBeLessThanOrEqual(0.01 * Math.abs(b));
    within(gpu.fid, cpu.fid);
    within(gpu.kid!, cpu.kid!);
    within(gpu.is_mean, cpu.is_mean);
    expect(gpu.precision).toBeCloseTo(cpu.precision!, 2);
    expect(gpu.recall).toBeCloseTo(cpu.recall!, 2);
    // A KID within its spread of 0 would compare noise: the two sets must differ.
    expect(cpu.kid! - 3 * cpu.kid_std!).toBeGreaterThan(0);
  }, 600_000);
});
