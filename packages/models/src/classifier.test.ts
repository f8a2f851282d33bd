import '@tensorflow/tfjs-backend-cpu';

import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { buildClassifier, classify } from './classifier';
import { classifierNetwork } from './features';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor) =>
  tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);

describe('classifier evaluation (flip-averaged)', () => {
  it('gives an image and its mirror image the same features and class scores, leaking nothing', () => {
    const model = buildClassifier({ width: 4, seed: 3 });
    const images = tf.randomUniform<tf.Rank.R4>([3, 32, 32, 3], -1, 1, 'float32', 5);
    const mirrored = tf.reverse<tf.Tensor4D>(images, 2);
    const before = tf.memory().numTensors;
    const [f, l] = classify(model, images);
    const [fm, lm] = classify(model, mirrored);
    expect(f.shape).toEqual([3, 32]);
    expect(l.shape).toEqual([3, 10]);
    expect(maxAbsDiff(f, fm)).toBeLessThan(1e-5);
    expect(maxAbsDiff(l, lm)).toBeLessThan(1e-5);
    // …and not the plain forward pass of one view (a random net is not mirror-symmetric).
    const plain = tf.tidy(() => (model.apply(images, { training: false }) as tf.Tensor2D[])[0]!);
    expect(maxAbsDiff(f, plain)).toBeGreaterThan(1e-4);
    tf.dispose([f, l, fm, lm, plain]);
    const out = classifierNetwork(model, 'test').extract(images);
    const sums = tf.tidy(() => Array.from(tf.sum(out.probs, 1).dataSync()));
    expect(sums.every((s) => Math.abs(s - 1) < 1e-5)).toBe(true);
    tf.dispose([out.features, out.probs]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([images, mirrored]);
    model.dispose();
  });
});
