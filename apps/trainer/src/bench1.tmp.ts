import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '/work/main/apps/trainer/src/backend';
import { createGan, trainStep, DEFAULT_DCGAN_CONFIG } from '@ganstudio/models';
const b = await selectBackend((process.argv[2] ?? 'wasm') as never);
console.log(b);
const gan = createGan({ ...DEFAULT_DCGAN_CONFIG });
const real = tf.tidy(() => tf.tanh(tf.randomNormal([64, 32, 32, 3])) as tf.Tensor4D);
for (let i = 0; i < 8; i++) {
  const t = performance.now();
  const m = trainStep(gan, real, i);
  const dt = (performance.now() - t) / 1000;
  console.log(i, (64 / dt).toFixed(1), 'img/s', JSON.stringify(m), tf.memory().numTensors);
}
import('./backend').then((b) => b.releaseBackend());
