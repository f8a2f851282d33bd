/**
 * Feature networks for every measurement (FID, KID, precision/recall, IS, copies) behind one interface: the project's CIFAR-10
 * classifier (./classifier) and Inception-v3, the network of the published numbers. A result is
 * only comparable with results of the same `id`, so every number carries it.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { at } from './arrays';
import { classify } from './classifier';
import { IMAGE_SIZE } from './config';
import { MomentAccumulator, type FeatureStats } from './fid';

export interface FeatureNetwork {
  /** Stable identity: kind plus a digest of the weights, e.g. "cifar10-classifier@1a2b3c4d5e6f". */
  id: string;
  /** What a person reads next to the number, e.g. "CIFAR-10 classifier features". */
  label: string;
  /** Feature dimension d (256 for the classifier, 2048 for Inception's pool3). */
  dim: number;
  /** Images [n, S, S, 3] in [-1, 1] (resized to the network's input) → features [n, d] and class probabilities [n, k]. */
  extract(images: tf.Tensor4D): { features: tf.Tensor2D; probs: tf.Tensor2D };
  dispose(): void;
}

/**
 * The layers model must be the classifier of ./classifier: outputs [features, logits]; features
 * and probabilities come from `classify` (flip-averaged), so `digest` must cover
 * CLASSIFIER_PROTOCOL as well as the weights.
 */
export function classifierNetwork(model: tfl.LayersModel, digest: string): FeatureNetwork {
  const names = model.outputNames.join(',');
  if (model.outputs.length !== 2)
    throw new Error(
      `not a ganstudio classifier: outputs are ${names}, expected features and logits`,
    );
  const dim = at(model.outputs, 0).shape[1];
  if (typeof dim !== 'number') throw new Error('classifier features have no fixed size');
  return {
    id: `cifar10-classifier@${digest}`,
    label: 'CIFAR-10 classifier',
    dim,
    extract(images) {
      // A 64×64 image is averaged down to the classifier's 32×32 (bilinear with half-pixel
      // centres at exactly 2× is the 2×2 box average): the reference set goes the same way.
      const input =
        images.shape[1] === IMAGE_SIZE
          ? images
          : tf.image.resizeBilinear(images, [IMAGE_SIZE, IMAGE_SIZE], false, true);
      const [features, logits] = classify(model, input);
      if (input !== images) input.dispose();
      const probs = tf.softmax<tf.Tensor2D>(logits);
      logits.dispose();
      return { features, probs };
    },
    dispose: () => model.dispose(),
  };
}

/** Keras InceptionV3's layer names (tf.keras.applications.InceptionV3, include_top=True). */
export const INCEPTION_POOL_LAYER = 'avg_pool';
export const INCEPTION_PREDICTIONS_LAYER = 'predictions';
export const INCEPTION_SIZE = 299;

/**
 * Inception-v3 as converted from Keras (tensorflowjs_converter --input_format=keras): pool3
 * (`avg_pool`, 2048-d) for FID and the 1000-way softmax (`predictions`) for IS. Images are
 * resized 32 → 299 bilinearly; Keras' inception preprocessing expects [-1, 1], which is already
 * the generator's range.
 */
export function inceptionNetwork(model: tfl.LayersModel, digest: string): FeatureNetwork {
  let pool: tfl.SymbolicTensor;
  let predictions: tfl.SymbolicTensor;
  try {
    pool = model.getLayer(INCEPTION_POOL_LAYER).output as tfl.SymbolicTensor;
    predictions = model.getLayer(INCEPTION_PREDICTIONS_LAYER).output as tfl.SymbolicTensor;
  } catch {
    throw new Error(
      `not a Keras InceptionV3: it needs layers named "${INCEPTION_POOL_LAYER}" and "${INCEPTION_PREDICTIONS_LAYER}"`,
    );
  }
  const inputShape = at(model.inputs, 0).shape;
  const size = inputShape[1] ?? INCEPTION_SIZE;
  const dim = pool.shape[1];
  if (typeof dim !== 'number') throw new Error('pool layer has no fixed size');
  const both = tfl.model({ inputs: model.inputs, outputs: [pool, predictions] });
  return {
    id: `inception-v3@${digest}`,
    label: 'Inception-v3 pool3',
    dim,
    extract(images) {
      return tf.tidy(() => {
        const resized = tf.image.resizeBilinear(images, [size, size]); // → [n, 299, 299, 3]
        const outputs = both.apply(resized, { training: false }) as tf.Tensor2D[];
        return { features: at(outputs, 0), probs: at(outputs, 1) };
      });
    },
    dispose: () => model.dispose(),
  };
}

export interface CollectedFeatures {
  stats: FeatureStats;
  /** Class probabilities [count, classes], row-major, for the Inception Score. */
  probs: Float32Array;
  classes: number;
  /** With `groups`: the moments of each group's images alone (undefined below 2 images). */
  groupStats?: (FeatureStats | undefined)[];
  /** With `keepRows`: every feature row, [count, d] row-major (KID, precision/recall, copies). */
  rows?: Float32Array;
}

/** Image i's group (0 … count − 1) and the number of groups, for per-group moments. */
export interface Grouping {
  of: (i: number) => number;
  count: number;
}

export interface CollectOptions {
  /** Images done so far, after each batch. */
  onBatch?: ((done: number) => void) | undefined;
  /** Also keep the moments of each group. */
  groups?: Grouping | undefined;
  /** Also keep the feature rows themselves. */
  keepRows?: boolean;
}

/**
 * Runs `count` images through the network in batches (`makeBatch(start, n)` → [n, 32, 32, 3] in
 * [-1, 1], owned and disposed here) and streams the features into float64 moments. Each batch's
 * rows and class probabilities come back in one asynchronous read.
 */
export async function collectFeatures(
  network: FeatureNetwork,
  count: number,
  batchSize: number,
  makeBatch: (start: number, n: number) => tf.Tensor4D,
  { onBatch, groups, keepRows = false }: CollectOptions = {},
): Promise<CollectedFeatures> {
  const acc = new MomentAccumulator(network.dim);
  const perGroup = groups
    ? Array.from({ length: groups.count }, () => new MomentAccumulator(network.dim))
    : undefined;
  const kept = keepRows ? new Float32Array(count * network.dim) : undefined;
  let probs: Float32Array | undefined;
  let classes = 0;
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const images = makeBatch(start, n);
    const out = network.extract(images);
    images.dispose();
    try {
      const [features, p] = (await Promise.all([out.features.data(), out.probs.data()])) as [
        Float32Array,
        Float32Array,
      ];
      await acc.add(out.features, features);
      kept?.set(features, start * network.dim);
      if (groups && perGroup) {
        const members: number[][] = perGroup.map(() => []);
        for (let i = 0; i < n; i++) members[groups.of(start + i)]?.push(i);
        for (const [g, rows] of members.entries()) {
          if (!rows.length) continue;
          const part = tf.tidy(() =>
            tf.gather<tf.Tensor2D>(out.features, tf.tensor1d(rows, 'int32')),
          ); // [rows, dim]
          try {
            await at(perGroup, g).add(part);
          } finally {
            part.dispose();
          }
        }
      }
      classes = out.probs.shape[1];
      probs ??= new Float32Array(count * classes);
      probs.set(p, start * classes);
    } finally {
      tf.dispose([out.features, out.probs]);
    }
    onBatch?.(start + n);
  }
  return {
    stats: acc.stats(),
    probs: probs ?? new Float32Array(0),
    classes,
    ...(perGroup
      ? { groupStats: perGroup.map((a) => (a.samples >= 2 ? a.stats() : undefined)) }
      : {}),
    ...(kept ? { rows: kept } : {}),
  };
}
