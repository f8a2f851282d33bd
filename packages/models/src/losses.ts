/**
 * GAN losses on discriminator logits.
 * - `bce`: the non-saturating loss of Goodfellow et al. 2014 (arXiv:1406.2661, §3): D minimises
 *   BCE(D(x), 1) + BCE(D(G(z)), 0); G minimises BCE(D(G(z)), 1) instead of −BCE(D(G(z)), 0),
 *   which saturates early in training. Written with softplus: −log σ(l) = softplus(−l).
 * - `hinge`: Lim & Ye 2017 (arXiv:1705.02894), as used by SN-GAN / BigGAN:
 *   L_D = E[relu(1 − D(x))] + E[relu(1 + D(G(z)))], L_G = −E[D(G(z))].
 */
import * as tf from '@tensorflow/tfjs-core';

import type { GanLoss } from './config';

/** realLogits, fakeLogits: [batch, 1] → scalar. */
export function discriminatorLoss(
  loss: GanLoss,
  realLogits: tf.Tensor,
  fakeLogits: tf.Tensor,
): tf.Scalar {
  return tf.tidy((): tf.Scalar => {
    if (loss === 'hinge') {
      return tf.add(
        tf.mean(tf.relu(tf.sub(1, realLogits))),
        tf.mean(tf.relu(tf.add(1, fakeLogits))),
      );
    }
    return tf.add(tf.mean(tf.softplus(tf.neg(realLogits))), tf.mean(tf.softplus(fakeLogits)));
  });
}

/** fakeLogits: [batch, 1] → scalar. */
export function generatorLoss(loss: GanLoss, fakeLogits: tf.Tensor): tf.Scalar {
  return tf.tidy((): tf.Scalar => {
    if (loss === 'hinge') return tf.neg(tf.mean(fakeLogits)) as tf.Scalar;
    return tf.mean<tf.Scalar>(tf.softplus(tf.neg(fakeLogits)));
  });
}
