import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from './backend';
await selectBackend('wasm');
const time = (name: string, f: () => tf.Tensor, n = 5) => {
  tf.dispose(f());
  const t = performance.now();
  for (let i = 0; i < n; i++) {
    const r = f();
    r.dataSync();
    r.dispose();
  }
  console.log(name, ((performance.now() - t) / n).toFixed(1), 'ms');
};
const dy = tf.randomNormal([64, 4, 4, 512]);
const W = tf.randomNormal([4, 4, 256, 512]);
time('convT full', () =>
  tf.conv2dTranspose(dy as tf.Tensor4D, W as tf.Tensor4D, [64, 8, 8, 256], 2, 'same'),
);
const pf = tf.randomNormal([2, 2, 512, 256]);
time('phase conv padded', () =>
  tf.conv2d(dy as tf.Tensor4D, pf as tf.Tensor4D, 1, [
    [0, 0],
    [1, 0],
    [1, 0],
    [0, 0],
  ]),
);
time('phase conv x4 new filter', () => {
  const f = tf.add(pf, 0);
  const r = tf.conv2d(dy as tf.Tensor4D, f as tf.Tensor4D, 1, [
    [0, 0],
    [1, 0],
    [1, 0],
    [0, 0],
  ]);
  f.dispose();
  return r;
});
time('filter reshape+reverse', () => tf.reverse(tf.reshape(W, [2, 2, 2, 2, 256, 512]), [0, 2]));
const r6 = tf.reverse(tf.reshape(W, [2, 2, 2, 2, 256, 512]), [0, 2]);
time('filter transpose6d', () => tf.transpose(r6, [1, 3, 0, 2, 5, 4]));
const t6 = tf.transpose(r6, [1, 3, 0, 2, 5, 4]);
time('slice phase', () => tf.slice(t6, [1, 0, 0, 0, 0, 0], [1, 1, 2, 2, 512, 256]));
const ph = tf.randomNormal([64, 4, 4, 256]);
time('concat4', () => tf.concat([ph, ph, ph, ph], 3));
const cc = tf.concat([ph, ph, ph, ph], 3);
time('depthToSpace', () => tf.depthToSpace(cc as tf.Tensor4D, 2));
const fwdX = tf.randomNormal([64, 8, 8, 256]);
time('fwd conv same size', () => tf.conv2d(fwdX as tf.Tensor4D, W as tf.Tensor4D, 2, 'same'));
time('tile', () => tf.tile(tf.ones([1, 1, 1, 128]), [64, 16, 16, 1]));
const a = tf.randomNormal([64, 100]);
const b = tf.randomNormal([64, 8192]);
time('matmul tA', () => tf.matMul(a, b, true, false));
time('matmul explicit transpose', () => tf.matMul(tf.transpose(a), b));
