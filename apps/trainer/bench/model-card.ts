/**
 * The measured lines of docs/model-card.md for a generator: uint8 vs float32 size and output
 * difference, and sample diversity against real test images.
 *
 *   npx tsx apps/trainer/bench/model-card.ts --float32 DIR --uint8 DIR --data cifar-10-binary.tar.gz
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { generate, seededLatents } from '@ganstudio/models';
import { releaseBackend, selectBackend } from '../src/backend';
import { toNhwc } from '../src/batches';
import { loadCifar10 } from '../src/cifar';
import { loadModel } from '../src/model-io';

const { values: v } = parseArgs({
  options: { float32: { type: 'string' }, uint8: { type: 'string' }, data: { type: 'string' } },
});
if (!v.float32 || !v.uint8 || !v.data)
  throw new Error('--float32, --uint8 and --data are required');
const N = 256;
const size = (dir: string) =>
  statSync(join(dir, 'weights.bin')).size + statSync(join(dir, 'model.json')).size;

/** Mean and minimum pairwise RMS distance of the rows of [n, d]. */
function spread(x: tf.Tensor2D): [number, number] {
  const [n, d] = x.shape;
  const out = tf.tidy(() => {
    const sq = tf.sum(tf.square(x), 1, true);
    const d2 = tf.relu(
      tf.sub(tf.add(sq, tf.transpose(sq)), tf.mul(2, tf.matMul(x, x, false, true))),
    );
    const dist = tf.sqrt(tf.div(d2, d));
    const eye = tf.eye(n);
    return tf.stack([
      tf.div(tf.sum(tf.mul(dist, tf.sub(1, eye))), n * (n - 1)),
      tf.min(tf.add(dist, tf.mul(eye, 1e9))),
    ]);
  });
  const [mean, min] = out.dataSync();
  out.dispose();
  return [mean!, min!];
}

await selectBackend('wasm');
const [f32, u8] = [await loadModel(v.float32), await loadModel(v.uint8)];
const z = tf.tensor2d(seededLatents(1, N, 100), [N, 100]);
const [a, b] = [generate(f32, z), generate(u8, z)];
const diff = tf.tidy(() => tf.abs(tf.sub(a, b)));
const maxDiff = tf.max(diff).dataSync()[0]!;
const meanDiff = tf.mean(diff).dataSync()[0]!;
console.log(
  `size: uint8 ${(size(v.uint8) / 2 ** 20).toFixed(2)} MiB, float32 ${(size(v.float32) / 2 ** 20).toFixed(2)} MiB`,
);
console.log(
  `uint8 vs float32 output on ${N} samples: max |Δ| ${maxDiff.toFixed(4)}, mean |Δ| ${meanDiff.toFixed(4)} (tanh units; 1/127.5 = one grey level)`,
);
const flat = tf.reshape(b, [N, 3072]) as tf.Tensor2D;
const [mean, min] = spread(flat);
const test = loadCifar10(v.data, 'test');
const real = tf.tensor2d(
  toNhwc(
    test,
    Array.from({ length: N }, (_, i) => i),
  ),
  [N, 3072],
);
const [rMean, rMin] = spread(real);
console.log(
  `diversity (uint8): mean pairwise ${mean.toFixed(3)}, nearest pair ${min.toFixed(3)}; real test images ${rMean.toFixed(3)} / ${rMin.toFixed(3)}`,
);
tf.dispose([z, a, b, diff, flat, real]);
releaseBackend();
