/** Seeded sample grids from a generator, as PNG bytes (shared by training's per-epoch grids and `sample`). */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { encodePng, generate, seededLatents, tensorToRgba, tileGrid } from '@ganstudio/models';

export function latentDimOf(generator: LayersModel): number {
  const dim = generator.inputs[0]?.shape[1];
  if (typeof dim !== 'number') throw new Error('generator input has no fixed latent size');
  return dim;
}

/**
 * `count` eval-mode samples from latent seed `seed`: [count, 32, 32, 3]; the caller disposes it.
 * `truncation` ψ draws z from N(0, I) cut at ±ψ (seededLatents).
 */
export function sampleImages(
  generator: LayersModel,
  seed: number,
  count: number,
  truncation = Infinity,
): tf.Tensor4D {
  const dim = latentDimOf(generator);
  const z = tf.tensor2d(seededLatents(seed, count, dim, truncation), [count, dim]);
  try {
    return generate(generator, z);
  } finally {
    z.dispose();
  }
}

export async function sampleGridPng(
  generator: LayersModel,
  seed: number,
  count: number,
  scale = 1,
  truncation = Infinity,
): Promise<Uint8Array> {
  const images = sampleImages(generator, seed, count, truncation);
  try {
    return encodePng(tileGrid(await tensorToRgba(images), { scale }));
  } finally {
    images.dispose();
  }
}
