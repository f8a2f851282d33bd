/**
 * Seeds to images: the one path the CLI's `sample`, training's epoch grids, the studio, the
 * server render and the share card all take, so one seed shows one image everywhere.
 *
 * Convention (share links depend on it): the image of seed s is the generator applied to the
 * first latent vector of seed s's stream, and a grid "from seed s" holds seeds s, s+1, s+2, …
 * (wrapping past 2^32 − 1 to 0). Tile i therefore never depends on how many tiles are drawn.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { generate } from './gan';
import { tensorToRgba, type RgbaImage } from './image';
import { assertSeed, MAX_SEED, seededLatents } from './latent';

export function latentDimOf(generator: LayersModel): number {
  const dim = generator.inputs[0]?.shape[1];
  if (typeof dim !== 'number') throw new Error('generator input has no fixed latent size');
  return dim;
}

/** The seed of tile `i` of a grid from `start`. */
export const gridSeed = (start: number, i: number) => (assertSeed(start) + i) % (MAX_SEED + 1);

/** Row i = first vector of seed gridSeed(start, i): [count, dim] row-major. */
export function seedLatents(
  start: number,
  count: number,
  dim: number,
  truncation = Infinity,
): Float32Array {
  const z = new Float32Array(count * dim);
  for (let i = 0; i < count; i++)
    z.set(seededLatents(gridSeed(start, i), 1, dim, truncation), i * dim);
  return z;
}

/** Eval-mode images of `latents` ([n·dim] row-major) → [n, H, W, 3] in [−1, 1]; the caller disposes it. */
export function generateFromLatents(generator: LayersModel, latents: Float32Array): tf.Tensor4D {
  const dim = latentDimOf(generator);
  const z = tf.tensor2d(latents, [latents.length / dim, dim]);
  try {
    return generate(generator, z);
  } finally {
    z.dispose();
  }
}

/** Images of seeds start, start+1, … as a tensor [count, H, W, 3]; the caller disposes it. */
export function sampleSeeds(
  generator: LayersModel,
  start: number,
  count: number,
  truncation = Infinity,
): tf.Tensor4D {
  return generateFromLatents(
    generator,
    seedLatents(start, count, latentDimOf(generator), truncation),
  );
}

/** Images of seeds start, start+1, … as RGBA pixels (what a canvas, a PNG or a card takes). */
export async function sampleSeedsRgba(
  generator: LayersModel,
  start: number,
  count: number,
  truncation = Infinity,
): Promise<RgbaImage[]> {
  const images = sampleSeeds(generator, start, count, truncation);
  try {
    return await tensorToRgba(images);
  } finally {
    images.dispose();
  }
}
