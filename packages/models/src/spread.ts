/**
 * How spread out a set of images is: the mode-collapse check of a generator (a collapsed one has
 * pairs of samples at ~0 distance), read beside the same figure for real images.
 */
import * as tf from '@tensorflow/tfjs-core';

import { at } from './arrays';

/**
 * Mean and minimum over pairs i ≠ j of the RMS difference between rows of x [n, d] (for images in
 * [-1, 1], in tanh units). Distances come from ‖a‖² + ‖b‖² − 2·a·b on one [n, n] matrix.
 */
export async function sampleSpread(x: tf.Tensor2D): Promise<{ mean: number; min: number }> {
  const [n, d] = x.shape;
  const packed = tf.tidy(() => {
    const sq = tf.sum(tf.square(x), 1, true); // [n, 1]
    const d2 = tf.relu(
      tf.sub(tf.add(sq, tf.transpose(sq)), tf.mul(2, tf.matMul(x, x, false, true))),
    );
    const dist = tf.sqrt(tf.div(d2, d)); // [n, n]
    const eye = tf.eye(n);
    return tf.stack([
      tf.div(tf.sum(tf.mul(dist, tf.sub(1, eye))), n * (n - 1)),
      tf.min(tf.add(dist, tf.mul(eye, 1e9))),
    ]);
  });
  try {
    const values = await packed.data();
    return { mean: at(values, 0), min: at(values, 1) };
  } finally {
    packed.dispose();
  }
}
