/**
 * The generator every fresh clone shows (apps/web/bundled/default-run) is not mode-collapsed
 * (issue #7): 256 seeded samples are spread out about as far as real CIFAR-10 images are.
 * Distances are RMS per-pixel differences in [-1, 1] units; 256 real test images measure a mean
 * of ~0.67 and a nearest pair of ~0.24 (docs/model-card.md). A collapsed generator has pairs at ~0.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate, seededLatents } from '@ganstudio/models';
import { releaseBackend, selectBackend } from './backend';
import { toNhwc } from './batches';
import { loadCifar10 } from './cifar';
import { loadModel } from './model-io';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SHIPPED = join(REPO, 'apps', 'web', 'bundled', 'default-run', 'generator-uint8');
const DATA =
  process.env['CIFAR10_PATH'] ??
  join(REPO, '..', 'shared', 'datasets', 'cifar10', 'cifar-10-binary.tar.gz');
const N = 256;

/** [n, d] → mean and minimum over pairs i ≠ j of the RMS difference. */
function pairwise(x: tf.Tensor2D): { mean: number; min: number } {
  const [n, d] = x.shape;
  const [mean, min] = tf.tidy(() => {
    const sq = tf.sum(tf.square(x), 1, true); // [n, 1]
    const d2 = tf.relu(
      tf.sub(tf.add(sq, tf.transpose(sq)), tf.mul(2, tf.matMul(x, x, false, true))),
    );
    const dist = tf.sqrt(tf.div(d2, d)); // [n, n]
    const eye = tf.eye(n);
    return [
      tf.div(tf.sum(tf.mul(dist, tf.sub(1, eye))), n * (n - 1)),
      tf.min(tf.add(dist, tf.mul(eye, 1e9))),
    ];
  });
  const out = { mean: mean!.dataSync()[0]!, min: min!.dataSync()[0]! };
  tf.dispose([mean!, min!]);
  return out;
}

beforeAll(async () => {
  await selectBackend('wasm');
});
afterAll(() => releaseBackend());

describe('the shipped generator', () => {
  it('gives 256 distinct, well-spread samples (no mode collapse)', async () => {
    expect(existsSync(join(SHIPPED, 'model.json'))).toBe(true);
    const generator = await loadModel(SHIPPED);
    const z = tf.tensor2d(seededLatents(1, N, 100), [N, 100]);
    const images = generate(generator, z);
    const flat = tf.reshape(images, [N, 32 * 32 * 3]) as tf.Tensor2D;
    const samples = pairwise(flat);
    tf.dispose([z, images, flat]);
    generator.dispose();
    expect(samples.min).toBeGreaterThan(0.05); // no two samples (near-)identical
    expect(samples.mean).toBeGreaterThan(0.3);
    if (existsSync(DATA)) {
      const test = loadCifar10(DATA, 'test');
      const real = tf.tensor2d(
        toNhwc(
          test,
          Array.from({ length: N }, (_, i) => i),
        ),
        [N, 3072],
      );
      const reference = pairwise(real);
      real.dispose();
      // As spread as real images, within a factor the 1-epoch model already clears.
      expect(samples.mean).toBeGreaterThan(0.6 * reference.mean);
      expect(samples.min).toBeGreaterThan(0.3 * reference.min);
    }
  }, 300_000);
});
