/**
 * Seeds to images: the one path the CLI's `sample`, training's epoch grids, the studio, the
 * server render and the share card all take, so one seed shows one image everywhere.
 *
 * Convention (share links depend on it): the image of seed s is the generator applied to the
 * first latent vector of seed s's stream, and a grid "from seed s" holds seeds s, s+1, s+2, …
 * (wrapping past 2^32 − 1 to 0). Tile i therefore never depends on how many tiles are drawn.
 * A class-conditional generator also takes a class: the image of (s, c) is G(z_s, c), so one z
 * drawn in another class is "the same sample" of that class.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';

import { classCountOf } from './dcgan';
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

/**
 * The class of each of `count` rows: one class for all, one per row, or none (unconditional).
 */
export type Classes = number | ArrayLike<number> | undefined;

const perRow = (classes: Classes, count: number): ArrayLike<number> | undefined =>
  typeof classes === 'number' ? new Array<number>(count).fill(classes) : classes;

/**
 * Eval-mode images of `latents` ([n·dim] row-major) → [n, H, W, 3] in [−1, 1]; the caller
 * disposes it. `classes` conditions a class-conditional generator (required there, refused elsewhere).
 */
export function generateFromLatents(
  generator: LayersModel,
  latents: Float32Array,
  classes?: Classes,
): tf.Tensor4D {
  const dim = latentDimOf(generator);
  const z = tf.tensor2d(latents, [latents.length / dim, dim]);
  try {
    return generate(generator, z, perRow(classes, latents.length / dim));
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
  classes?: Classes,
): tf.Tensor4D {
  return generateFromLatents(
    generator,
    seedLatents(start, count, latentDimOf(generator), truncation),
    classes,
  );
}

/** Images of seeds start, start+1, … as RGBA pixels (what a canvas, a PNG or a card takes). */
export async function sampleSeedsRgba(
  generator: LayersModel,
  start: number,
  count: number,
  truncation = Infinity,
  classes?: Classes,
): Promise<RgbaImage[]> {
  const images = sampleSeeds(generator, start, count, truncation, classes);
  try {
    return await tensorToRgba(images);
  } finally {
    images.dispose();
  }
}

/**
 * A class as a user writes it (a name, case-insensitive, or an index) → its index among `names`.
 * One error line names the choices.
 */
export function classIndex(value: string | number, names: readonly string[]): number {
  const text = String(value).trim();
  const byName = names.findIndex((n) => n.toLowerCase() === text.toLowerCase());
  if (byName >= 0) return byName;
  if (/^\d+$/.test(text) && Number(text) < names.length) return Number(text);
  throw new RangeError(
    `unknown class ${JSON.stringify(text)}: one of ${names.map((n, i) => `${n} (${i})`).join(', ')}`,
  );
}

/**
 * Every class of a conditional generator at the same z: row c holds seeds start … start +
 * columns − 1 drawn in class c (the classic class-conditional figure, one class a row) →
 * [classes · columns, H, W, 3]; the caller disposes it.
 */
export function sampleClassRows(
  generator: LayersModel,
  start: number,
  columns: number,
  truncation = Infinity,
): tf.Tensor4D {
  const classes = classCountOf(generator);
  if (!classes) throw new Error('this generator is unconditional: it has no classes to lay out');
  const dim = latentDimOf(generator);
  const row = seedLatents(start, columns, dim, truncation);
  const latents = new Float32Array(classes * columns * dim);
  for (let c = 0; c < classes; c++) latents.set(row, c * columns * dim);
  return generateFromLatents(
    generator,
    latents,
    Array.from({ length: classes * columns }, (_, i) => Math.floor(i / columns)),
  );
}

/**
 * One z drawn through `steps` classes between `from` and `to`: the two rows of G's class table
 * mixed linearly, e = (1 − t)·e_from + t·e_to for t = 0 … 1, then z ⊙ e through G's layers after
 * the product → [steps, H, W, 3]; t = 0 and t = 1 are exactly the images of the two classes. The
 * stock model takes whole classes only, so its layers after the product are applied here directly.
 */
export function interpolateClasses(
  generator: LayersModel,
  latent: Float32Array,
  from: number,
  to: number,
  steps: number,
): tf.Tensor4D {
  const classes = classCountOf(generator);
  for (const c of [from, to])
    if (!(Number.isInteger(c) && c >= 0 && c < classes))
      throw new RangeError(`class ${c} is not one of 0–${classes - 1}`);
  const joined = generator.layers.findIndex((l) => l.name === 'z_and_class');
  if (joined < 0) throw new Error('not a class-conditional generator of this project');
  const rest = generator.layers.slice(joined + 1);
  const [table] = generator.getLayer('class_embedding').getWeights() as [tf.Tensor2D]; // [classes, latentDim]
  return tf.tidy(() => {
    const t = tf.reshape(tf.linspace(0, 1, steps), [steps, 1]); // → [steps, 1]
    const a = tf.slice(table, [from, 0], [1, -1]);
    const b = tf.slice(table, [to, 0], [1, -1]);
    const e = tf.add(tf.mul(a, tf.sub(1, t)), tf.mul(b, t)); // → [steps, latentDim]
    const z = tf.tensor2d(latent, [1, latent.length]); // → [1, latentDim], broadcast over steps
    let h: tf.Tensor = tf.mul(z, e);
    for (const layer of rest) h = layer.apply(h, { training: false }) as tf.Tensor;
    return h as tf.Tensor4D;
  });
}
