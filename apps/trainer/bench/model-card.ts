/**
 * The measured lines of docs/model-card.md for a generator: uint8 vs float32 size and output
 * difference, and sample diversity against real test images.
 *
 *   npx tsx apps/trainer/bench/model-card.ts --float32 DIR --uint8 DIR --data cifar-10-binary.tar.gz
 *
 * A class-conditional generator is sampled with classes 0, 1, 2, … in turn.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';

import { sampleSpread } from '@ganstudio/models/eval';
import { classCountOf, sampleSeeds } from '@ganstudio/models/gan';

import { releaseBackend, selectBackend } from '../src/backend';
import { loadCifar10 } from '../src/data/cifar';
import { imageBatches } from '../src/measure/features';
import { loadModel } from '../src/training/model-io';

const { values: v } = parseArgs({
  options: { float32: { type: 'string' }, uint8: { type: 'string' }, data: { type: 'string' } },
});
if (!v.float32 || !v.uint8 || !v.data)
  throw new Error('--float32, --uint8 and --data are required');
const N = 256;
const size = (dir: string) =>
  statSync(join(dir, 'weights.bin')).size + statSync(join(dir, 'model.json')).size;

await selectBackend('wasm');
const [f32, u8] = [await loadModel(v.float32), await loadModel(v.uint8)];
// A class-conditional generator draws sample i in class i mod classes, every class alike.
const k = classCountOf(f32);
const classes = k ? Array.from({ length: N }, (_, i) => i % k) : undefined;
const [a, b] = [
  sampleSeeds(f32, 1, N, Infinity, classes),
  sampleSeeds(u8, 1, N, Infinity, classes),
];
const diff = tf.tidy(() => tf.abs(tf.sub(a, b)));
const maxDiff = (await tf.max(diff).data())[0]!;
const meanDiff = (await tf.mean(diff).data())[0]!;
console.log(
  `size: uint8 ${(size(v.uint8) / 2 ** 20).toFixed(2)} MiB, float32 ${(size(v.float32) / 2 ** 20).toFixed(2)} MiB`,
);
console.log(
  `uint8 vs float32 output on ${N} samples: max |Δ| ${maxDiff.toFixed(4)}, mean |Δ| ${meanDiff.toFixed(4)} (tanh units; 1/127.5 = one grey level)`,
);
const flat = tf.reshape<tf.Rank.R2>(b, [N, 3072]);
const { mean, min } = await sampleSpread(flat);
const realImages = imageBatches(loadCifar10(v.data, 'test'))(0, N);
const real = tf.reshape<tf.Rank.R2>(realImages, [N, 3072]);
const { mean: rMean, min: rMin } = await sampleSpread(real);
console.log(
  `diversity (uint8): mean pairwise ${mean.toFixed(3)}, nearest pair ${min.toFixed(3)}; real test images ${rMean.toFixed(3)} / ${rMin.toFixed(3)}`,
);
tf.dispose([a, b, diff, flat, realImages, real]);
releaseBackend();
