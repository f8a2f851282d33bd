/**
 * The wasm training kernels against the pure JS cpu backend (the reference): random inputs of
 * several shapes, strides and paddings, forward and gradients, relative error under 1e-4.
 */
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-core/dist/register_all_gradients';

import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { createRng, gaussianArray } from './latent';
import { registerWasmConvKernels } from './wasm-kernels';

const REL_TOL = 1e-4;

beforeAll(async () => {
  registerWasmConvKernels();
  await tf.setBackend('wasm');
  await tf.setBackend('cpu');
});

function randn(shape: number[], seed: number): { values: Float32Array; shape: number[] } {
  return {
    values: gaussianArray(
      createRng(seed),
      shape.reduce((a, b) => a * b, 1),
    ),
    shape,
  };
}

/** max |a − b| / max |b|: error relative to the reference's scale. */
function relError(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 1e-12;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return num / den;
}

/** Runs `f` on both backends with the same inputs; returns [wasm outputs, cpu outputs]. */
async function onBoth(
  inputs: { values: Float32Array; shape: number[] }[],
  f: (...t: tf.Tensor[]) => tf.Tensor[],
) {
  const results: Float32Array[][] = [];
  for (const backend of ['wasm', 'cpu']) {
    await tf.setBackend(backend);
    const before = tf.memory().numTensors;
    const ts = inputs.map((i) => tf.tensor(i.values, i.shape));
    const outs = tf.tidy(() => f(...ts));
    results.push(await Promise.all(outs.map(async (o) => (await o.data()) as Float32Array)));
    tf.dispose([...ts, ...outs]);
    expect(tf.memory().numTensors).toBe(before);
  }
  return results as [Float32Array[], Float32Array[]];
}

type Case = { x: number[]; k: number[]; stride: number; pad: 'same' | 'valid' };
const CASES: Case[] = [
  { x: [2, 32, 32, 3], k: [4, 4, 3, 8], stride: 2, pad: 'same' }, // DCGAN D layer 1 (narrow)
  { x: [3, 16, 16, 8], k: [4, 4, 8, 16], stride: 2, pad: 'same' },
  { x: [2, 9, 11, 4], k: [3, 3, 4, 5], stride: 2, pad: 'valid' }, // odd sides: rows the conv never reads
  { x: [2, 10, 10, 3], k: [5, 5, 3, 4], stride: 3, pad: 'same' },
  { x: [2, 8, 8, 6], k: [3, 3, 6, 7], stride: 1, pad: 'same' },
  { x: [1, 7, 7, 2], k: [2, 2, 2, 3], stride: 2, pad: 'valid' },
  // The 64×64 DCGAN's discriminator: its first layer on 64×64 images and its fourth, extra stage.
  { x: [2, 64, 64, 3], k: [4, 4, 3, 8], stride: 2, pad: 'same' },
  { x: [2, 8, 8, 32], k: [4, 4, 32, 64], stride: 2, pad: 'same' },
];

describe('wasm Conv2DBackpropFilter / Conv2DBackpropInput vs the cpu backend', () => {
  it.each(CASES)(
    'conv2d gradients (x $x, filter $k, stride $stride, $pad)',
    async ({ x, k, stride, pad }) => {
      const [wasm, cpu] = await onBoth([randn(x, 1), randn(k, 2)], (xt, ft) => {
        const g = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(
            tf.mul(
              tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad),
              tf.cos(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad)),
            ),
          ),
        );
        return [tf.conv2d(xt as tf.Tensor4D, ft as tf.Tensor4D, stride, pad), ...g([xt, ft])];
      });
      for (let i = 0; i < 3; i++) expect(relError(wasm[i]!, cpu[i]!)).toBeLessThan(REL_TOL);
    },
  );

  it.each([
    { x: [2, 4, 4, 16], k: [4, 4, 8, 16], stride: 2, out: [2, 8, 8, 8] }, // DCGAN G up-conv (narrow)
    { x: [3, 8, 8, 6], k: [4, 4, 3, 6], stride: 2, out: [3, 16, 16, 3] }, // G to_rgb
    { x: [2, 5, 5, 4], k: [3, 3, 2, 4], stride: 2, out: [2, 10, 10, 2] }, // kernel not a multiple of the stride
    { x: [2, 4, 4, 3], k: [5, 5, 2, 3], stride: 3, out: [2, 12, 12, 2] },
    // The 64×64 DCGAN's generator: its extra 16 → 32 stage and to_rgb at 32 → 64.
    { x: [2, 16, 16, 16], k: [4, 4, 8, 16], stride: 2, out: [2, 32, 32, 8] },
    { x: [2, 32, 32, 8], k: [4, 4, 3, 8], stride: 2, out: [2, 64, 64, 3] },
  ])(
    'conv2dTranspose forward and gradients (dy $x, filter $k, stride $stride)',
    async ({ x, k, stride, out }) => {
      const shape = out as [number, number, number, number];
      const [wasm, cpu] = await onBoth([randn(x, 3), randn(k, 4)], (yt, ft) => {
        const f = (a: tf.Tensor, b: tf.Tensor) =>
          tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, shape, stride, 'same');
        const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(f(a, b))));
        return [f(yt, ft), ...g([yt, ft])];
      });
      for (let i = 0; i < 3; i++) expect(relError(wasm[i]!, cpu[i]!)).toBeLessThan(REL_TOL);
    },
  );

  it('full-width DCGAN layer shapes match too', async () => {
    // D layer 2 (ndf = 64) and G up-conv 1 (ngf = 64) at batch 2.
    const [wasm, cpu] = await onBoth(
      [
        randn([2, 16, 16, 64], 5),
        randn([4, 4, 64, 128], 6),
        randn([2, 4, 4, 512], 7),
        randn([4, 4, 256, 512], 8),
      ],
      (x, k, z, w) => {
        const dW = tf.grad((b: tf.Tensor) =>
          tf.sum(tf.square(tf.conv2d(x as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'))),
        )(k);
        const up = tf.conv2dTranspose(
          z as tf.Tensor4D,
          w as tf.Tensor4D,
          [2, 8, 8, 256],
          2,
          'same',
        );
        return [dW, up];
      },
    );
    expect(relError(wasm[0]!, cpu[0]!)).toBeLessThan(REL_TOL);
    expect(relError(wasm[1]!, cpu[1]!)).toBeLessThan(REL_TOL);
  });
});

describe('wasm matMul with transposed operands', () => {
  it.each([
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ])(
    'transposeA %s, transposeB %s matches cpu, with and without the fused bias/activation',
    async (ta, tb) => {
      // 2-D, as the dense layers use it: the stock wasm _FusedMatMul already disagrees with cpu on batched 3-D products with a bias (not used here).
      const a = randn(ta ? [7, 5] : [5, 7], 9);
      const b = randn(tb ? [3, 7] : [7, 3], 10);
      const [wasm, cpu] = await onBoth([a, b, randn([3], 11)], (x, y, bias) => [
        tf.matMul(x, y, ta, tb),
        tf.fused.matMul({
          a: x,
          b: y,
          transposeA: ta,
          transposeB: tb,
          bias,
          activation: 'relu',
        }),
        ...tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.square(tf.matMul(p, q, ta, tb))))([
          x,
          y,
        ]),
      ]);
      expect([0, 1, 2, 3].map((i) => relError(wasm[i]!, cpu[i]!) < REL_TOL)).toEqual([
        true,
        true,
        true,
        true,
      ]);
    },
  );
});

describe('wasm Tile', () => {
  it.each([
    [
      [1, 1, 1, 5],
      [3, 4, 2, 1],
    ], // batch norm's gradient: one block repeated
    [
      [2, 3],
      [2, 2],
    ], // general: falls back to the stock kernel
    [
      [1, 4],
      [3, 1],
    ],
    [
      [3, 1],
      [1, 4],
    ],
  ])('input %j tiled %j matches cpu', async (shape, reps) => {
    const [wasm, cpu] = await onBoth([randn(shape, 12)], (x) => [tf.tile(x, reps)]);
    expect(Array.from(wasm[0]!)).toEqual(Array.from(cpu[0]!));
  });
});

describe('wasm UnsortedSegmentSum (the gradient of an embedding lookup)', () => {
  it('an embedding gradient with repeated and unused classes matches cpu', async () => {
    // 6 lookups into a table of 4 classes × 5: class 1 three times, class 3 never.
    const [wasm, cpu] = await onBoth([randn([4, 5], 13), randn([6, 5], 14)], (table, dy) => {
      const ids = tf.tensor1d([1, 0, 1, 2, 1, 0], 'int32');
      const grad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, ids), dy)))(table);
      return [grad];
    });
    expect(relError(wasm[0]!, cpu[0]!)).toBeLessThan(REL_TOL);
    expect(Array.from(wasm[0]!.slice(15, 20))).toEqual([0, 0, 0, 0, 0]);
  });
});
