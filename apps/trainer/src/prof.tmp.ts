import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from './backend';
import { createGan, trainStep, DEFAULT_DCGAN_CONFIG } from '@ganstudio/models';
await selectBackend('wasm');
const gan = createGan({ ...DEFAULT_DCGAN_CONFIG });
const real = tf.tidy(() => tf.tanh(tf.randomNormal([64, 32, 32, 3])) as tf.Tensor4D);
trainStep(gan, real, 0);
const t0 = performance.now();
const info = await tf.profile(() => {
  trainStep(gan, real, 1);
});
const total = performance.now() - t0;
const agg = new Map<string, { ms: number; n: number }>();
for (const k of info.kernels) {
  const ms = await (k.kernelTimeMs as unknown as Promise<number> | number);
  const key = k.name + ' ' + JSON.stringify(k.inputShapes);
  const a = agg.get(key) ?? { ms: 0, n: 0 };
  a.ms += ms as number;
  a.n++;
  agg.set(key, a);
}
const rows = [...agg].sort((a, b) => b[1].ms - a[1].ms);
let sum = 0;
for (const [, v] of rows) sum += v.ms;
console.log('total wall', total.toFixed(0), 'kernel sum', sum.toFixed(0));
for (const [k, v] of rows.slice(0, 40)) console.log(v.ms.toFixed(1).padStart(8), v.n, k);
