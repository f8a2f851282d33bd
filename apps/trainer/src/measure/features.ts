/**
 * The feature networks measurements run images through (the CIFAR-10 classifier that ships with
 * @ganstudio/models, or Inception-v3 where its weights are at hand), and the image batches they
 * read: real images, a generator's samples, uniform noise.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {
  CLASSIFIER_PROTOCOL,
  classifierNetwork,
  inceptionNetwork,
  type FeatureNetwork,
} from '@ganstudio/models/eval';
import {
  classCountOf,
  generateFromLatents,
  latentDimOf,
  seededLatents,
} from '@ganstudio/models/gan';
import { loadModelFromFiles } from '@ganstudio/models/weights';

import { batchTensor } from '../data/batches';
import { type PlanarImages } from '../data/cifar';
import { UserError } from '../errors';
import { readModelFiles } from '../training/model-io';

/** The classifier that ships with the project (trained by `train-classifier`, uint8). */
export function shippedClassifierDir(): string {
  const require = createRequire(import.meta.url);
  return join(
    dirname(require.resolve('@ganstudio/models/package.json')),
    'weights',
    'cifar10-classifier',
  );
}

/**
 * Digest of the weight values (not the file bytes), so a folder and a URL serving one model
 * agree, and of the protocol that turns them into features (`protocol`, when not the plain
 * forward pass), so numbers from different protocols never share an id.
 */
async function weightsDigest(model: tfl.LayersModel, protocol?: string): Promise<string> {
  const hash = createHash('sha256');
  if (protocol) hash.update(protocol);
  for (const w of model.getWeights()) {
    const v = (await w.data()) as Float32Array;
    hash.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  }
  return hash.digest('hex').slice(0, 12);
}

async function loadLayers(
  source: string,
  protocol?: string,
): Promise<{ model: tfl.LayersModel; digest: string }> {
  let model: tfl.LayersModel;
  if (/^https?:\/\//.test(source)) {
    try {
      model = await tfl.loadLayersModel(source);
    } catch (err) {
      throw new UserError(
        `${source}: cannot load a TF.js layers model (${(err as Error).message})`,
      );
    }
  } else {
    const files = readModelFiles(source);
    try {
      model = await loadModelFromFiles(files.modelJson, files.weights);
    } catch (err) {
      throw new UserError(`${source}: cannot load model: ${(err as Error).message}`);
    }
  }
  return { model, digest: await weightsDigest(model, protocol) };
}

export type FeatureNetworkChoice = 'classifier' | 'inception';
export const FEATURE_NETWORKS: readonly FeatureNetworkChoice[] = ['classifier', 'inception'];

export async function loadFeatureNetwork(
  kind: FeatureNetworkChoice,
  source?: string,
): Promise<FeatureNetwork> {
  if (kind === 'inception') {
    if (!source)
      throw new UserError(
        '--inception PATH|URL is required for --feature-network inception (see docs/metrics.md)',
        2,
      );
    const { model, digest } = await loadLayers(source);
    try {
      return inceptionNetwork(model, digest);
    } catch (err) {
      model.dispose();
      throw new UserError(`${source}: ${(err as Error).message}`);
    }
  }
  const dir = source ?? shippedClassifierDir();
  if (!source && !existsSync(join(dir, 'model.json')))
    throw new UserError(
      `no shipped classifier at ${dir}; train one with \`ganstudio train-classifier\` and pass --classifier`,
    );
  const { model, digest } = await loadLayers(dir, CLASSIFIER_PROTOCOL);
  try {
    return classifierNetwork(model, digest);
  } catch (err) {
    model.dispose();
    throw new UserError(`${dir}: ${(err as Error).message}`);
  }
}

/** Real images as a batch source ([-1, 1], no augmentation). */
export function imageBatches(data: PlanarImages) {
  return (start: number, n: number) =>
    batchTensor(
      data,
      Array.from({ length: n }, (_, i) => (start + i) % data.count),
    );
}

/**
 * The FID sampling protocol ("stream batches", docs/training.md § Protocol): the batch of images
 * start … start + n − 1 is n consecutive vectors of the latent stream of seed + start. Every FID
 * and IS recorded in this repository was measured this way, so it stays as its own protocol
 * rather than the gallery's one-seed-per-image convention (sampleSeeds), which would move them.
 * A conditional generator draws image i in class i mod classes: every class equally often, as
 * the real set's classes are.
 */
export function generatorBatches(generator: tfl.LayersModel, seed: number, truncation = Infinity) {
  const dim = latentDimOf(generator);
  const classes = classCountOf(generator);
  return (start: number, n: number) =>
    generateFromLatents(
      generator,
      seededLatents((seed + start) >>> 0, n, dim, truncation),
      classes ? Array.from({ length: n }, (_, i) => (start + i) % classes) : undefined,
    );
}

/** Uniform noise images: the "very large FID" end of the sanity scale. */
export function noiseBatches(seed: number) {
  return (start: number, n: number) =>
    tf.randomUniform<tf.Rank.R4>(
      [n, 32, 32, 3],
      -1,
      1,
      'float32',
      ((seed + start) % 2147483646) + 1,
    );
}
