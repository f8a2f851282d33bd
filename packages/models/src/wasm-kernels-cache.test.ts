/**
 * The phase-filter cache of inference-only processes (the gallery's server render): a filter used
 * again reuses its phase split, and a new filter of the same shape — what a stale cache would get
 * wrong — gives its own result. Its own file: the cache is process-wide and one-way.
 */
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';

import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { createRng, gaussianArray } from './latent';
import { cacheWasmPhaseFilters, registerWasmConvKernels } from './wasm-kernels';

beforeAll(async () => {
  registerWasmConvKernels();
  cacheWasmPhaseFilters();
  await tf.setBackend('wasm');
  await tf.setBackend('cpu');
});

const randn = (shape: number[], seed: number) =>
  tf.tensor(
    gaussianArray(
      createRng(seed),
      shape.reduce((a, b) => a * b, 1),
    ),
    shape,
  );

/** A generator-style transposed conv: x [1, 4, 4, 32] → [1, 8, 8, 16], kernel 4, stride 2, 'same'. */
async function convT(
  backend: string,
  xSeed: number,
  wSeed: number,
  uses = 1,
): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const x = randn([1, 4, 4, 32], xSeed);
  const w = randn([4, 4, 16, 32], wSeed);
  const outs: Float32Array[] = [];
  for (let i = 0; i < uses; i++) {
    const y = tf.conv2dTranspose(x as tf.Tensor4D, w as tf.Tensor4D, [1, 8, 8, 16], 2, 'same');
    outs.push((await y.data()) as Float32Array);
    y.dispose();
  }
  tf.dispose([x, w]);
  return outs;
}

const maxDiff = (a: Float32Array, b: Float32Array) =>
  a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describe('wasm phase-filter cache', () => {
  it('gives the reference result on first use, on reuse, and for a new filter of the same shape', async () => {
    const [first, again, third] = await convT('wasm', 1, 2, 3);
    const [reference] = await convT('cpu', 1, 2);
    expect(maxDiff(first!, reference!)).toBeLessThan(1e-4);
    expect(Array.from(again!)).toEqual(Array.from(first!));
    expect(Array.from(third!)).toEqual(Array.from(first!));
    const [other] = await convT('wasm', 1, 3);
    const [otherReference] = await convT('cpu', 1, 3);
    expect(maxDiff(other!, otherReference!)).toBeLessThan(1e-4);
    expect(maxDiff(other!, first!)).toBeGreaterThan(0.1);
  });
});
