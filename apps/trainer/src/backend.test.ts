/**
 * Backend choice and the wasm training backend end to end: auto picks wasm where no native
 * TensorFlow installs, uses every core, trains like the cpu reference, and does not grow.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { createGan, disposeGan, trainStep, type DcganConfig } from '@ganstudio/models/gan';

import { selectBackend } from './backend';
import { gpuDeviceNodes } from './webgpu';

const tiny: DcganConfig = { latentDim: 16, ngf: 4, ndf: 4, loss: 'bce', seed: 11 };

function batch(seed: number): tf.Tensor4D {
  return tf.tidy(() =>
    tf.tanh<tf.Tensor4D>(tf.randomNormal([16, 32, 32, 3], 0, 1, 'float32', seed)),
  );
}

/** Trains `steps` steps from the same seeds on the active backend; returns the last metrics. */
async function run(steps: number) {
  const gan = createGan(tiny);
  let last;
  for (let s = 0; s < steps; s++) {
    const real = batch(100 + s);
    last = await trainStep(gan, real, s);
    real.dispose();
  }
  disposeGan(gan);
  if (!last) throw new Error('no steps were run');
  return last;
}

describe('backend selection', () => {
  it('auto skips the native packages that are not installed, says why, and lands on wasm with every core', async () => {
    const info = await selectBackend('auto');
    expect(info.active).toBe('wasm');
    expect(info.reason).toMatch(
      /^wasm \(auto: @tensorflow\/tfjs-node-gpu (is not installed|failed to load)/,
    );
    expect(info.threads).toBe(Math.min(availableParallelism(), 8));
  });

  it('auto opens WebGPU only where a GPU device node exists (NVIDIA, a render node, WSL)', () => {
    const dev = mkdtempSync(join(tmpdir(), 'dev-'));
    for (const f of ['nvidiactl', 'nvidia-uvm', 'null']) writeFileSync(join(dev, f), '');
    expect(gpuDeviceNodes(dev)).toEqual([]);
    mkdirSync(join(dev, 'dri'));
    for (const f of ['nvidia0', 'nvidia1']) writeFileSync(join(dev, f), '');
    for (const f of ['card0', 'renderD128']) writeFileSync(join(dev, 'dri', f), '');
    expect(gpuDeviceNodes(dev).sort()).toEqual(
      [join(dev, 'dri', 'renderD128'), join(dev, 'nvidia0'), join(dev, 'nvidia1')].sort(),
    );
  });

  it('rejects unknown names and unavailable native backends with one message', async () => {
    await expect(selectBackend('metal' as never)).rejects.toThrow(
      /--backend must be one of auto, tensorflow-gpu, webgpu, tensorflow, wasm, cpu/,
    );
    await expect(selectBackend('tensorflow-gpu')).rejects.toThrow(
      /backend tensorflow-gpu is not available: @tensorflow\/tfjs-node-gpu/,
    );
  });

  it('a short run from the same seed ends with the same losses on wasm as on the cpu reference', async () => {
    await selectBackend('cpu');
    const cpu = await run(6);
    await selectBackend('wasm');
    const wasm = await run(6);
    for (const k of ['dLoss', 'gLoss', 'dReal', 'dFake'] as const) {
      expect(Math.abs(wasm[k] - cpu[k]) / Math.abs(cpu[k])).toBeLessThan(0.03);
    }
  });

  it('1,000 wasm training steps grow neither tensors, nor bytes, nor the process', async () => {
    await selectBackend('wasm');
    const gan = createGan(tiny);
    const real = batch(1);
    for (let s = 0; s < 50; s++) await trainStep(gan, real, s); // optimiser slots, kernel caches
    const before = { ...tf.memory(), rss: process.memoryUsage().rss };
    for (let s = 50; s < 1050; s++) await trainStep(gan, real, s);
    const after = { ...tf.memory(), rss: process.memoryUsage().rss };
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
    expect((after.rss - before.rss) / 2 ** 20).toBeLessThan(64);
    real.dispose();
    disposeGan(gan);
  }, 900_000); // ~40 s alone; minutes when the suite shares the two cores with other work
});
