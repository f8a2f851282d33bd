/**
 * `eval` and the trainer's periodic measurement: sample a generator (or take real or noise
 * images), run them through a feature network, compare with the reference statistics and rows
 * (reference.ts), report FID, IS, KID, precision/recall and copies with their passport.
 */
import { basename } from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import { at } from '@ganstudio/models/arrays';
import {
  collectFeatures,
  copyCheck,
  frechetDistance,
  inceptionScore,
  kernelInceptionDistance,
  precisionRecall,
  type FeatureNetwork,
  type FeatureRows,
  type FeatureStats,
} from '@ganstudio/models/eval';
import type { Measurement } from '@ganstudio/models/measurement';
import type { Passport } from '@ganstudio/models/passport';

import { CLASS_NAMES } from '../data/cifar';
import { UserError } from '../errors';
import { readModelFiles } from '../training/model-io';
import { generatorBatches } from './features';
import type { RowReferences } from './reference';

/**
 * The FID/IS a run logs for its generator: `samples` images from latent seed 0. Training and
 * `bundle` both call this, so a re-measured epoch repeats the logged number.
 */
export function evaluateGenerator(
  network: FeatureNetwork,
  reference: { stats: FeatureStats; description: string },
  generator: tfl.LayersModel,
  samples: number,
  options: {
    onBatch?: (done: number) => void;
    classes?: { names: string[]; targets: number[] };
    rows?: RowReferences;
  } = {},
): Promise<EvalResult> {
  return evaluateImages(network, reference, generatorBatches(generator, 0), samples, options);
}

/**
 * A Measurement as the evaluation returns it, before its caller (who knows the weights) adds the
 * passport: with IS always, the descriptions of the network and reference, per-class FID, and
 * the samples nearest the training set.
 */
export interface EvalResult extends Omit<
  Measurement,
  'passport' | 'copies' | 'is_mean' | 'is_std'
> {
  is_mean: number;
  is_std: number;
  feature_network: string;
  samples: number;
  reference: string;
  per_class?: ClassResult[];
  /** As Measurement's, or null: no held-out set to judge nearness by. */
  copies?: number | null;
  passport?: Passport;
  /** The samples nearest the training set (sample index, training index, squared distance). */
  closest?: { sample: number; train: number; distance: number }[];
}

/** FID against `reference` and IS of `count` images from `batches`. */
export async function evaluateImages(
  network: FeatureNetwork,
  reference: { stats: FeatureStats; description: string },
  batches: (start: number, n: number) => tf.Tensor4D,
  count: number,
  options: {
    batchSize?: number;
    splits?: number;
    onBatch?: (done: number) => void;
    /** A conditional generator: sample i is in class i mod names.length; per-class results. */
    classes?: { names: string[]; reference?: (FeatureStats | undefined)[]; targets: number[] };
    /** Rows to compare the samples with: adds KID, precision, recall and copies. */
    rows?: RowReferences;
  } = {},
): Promise<EvalResult> {
  if (count <= network.dim)
    throw new UserError(
      `--samples ${count} must exceed the feature dimension ${network.dim} of ${network.id}, or the covariance is singular`,
      2,
    );
  const splits = options.splits ?? 10;
  if (count < splits)
    throw new UserError(`--samples ${count} is fewer than the ${splits} IS splits`, 2);
  const k = options.classes?.names.length ?? 0;
  const got = await collectFeatures(network, count, options.batchSize ?? 250, batches, {
    onBatch: options.onBatch,
    groups: k ? { of: (i) => i % k, count: k } : undefined,
    keepRows: options.rows !== undefined,
  });
  const { fid } = frechetDistance(got.stats, reference.stats);
  const is = inceptionScore(got.probs, count, got.classes, splits);
  const result: EvalResult = {
    fid,
    is_mean: is.mean,
    is_std: is.std,
    feature_network: network.id,
    samples: count,
    reference: reference.description,
  };
  if (options.rows && got.rows) {
    const { closest, ...measured } = await rowMeasures({ data: got.rows, n: count }, options.rows);
    Object.assign(result, measured);
    result.closest = closest;
  }
  if (!options.classes) return result;
  const { names, reference: real, targets } = options.classes;
  const hits = new Array<number>(k).fill(0);
  const seen = new Array<number>(k).fill(0);
  for (let i = 0; i < count; i++) {
    const c = i % k;
    seen[c] = at(seen, c) + 1;
    let best = 0;
    for (let j = 1; j < got.classes; j++)
      if (at(got.probs, i * got.classes + j) > at(got.probs, i * got.classes + best)) best = j;
    if (best === targets[c]) hits[c] = at(hits, c) + 1;
  }
  result.per_class = names.map((name, c) => {
    const mine = got.groupStats?.[c];
    const theirs = real?.[c];
    return {
      class: name,
      // Below d + 1 samples the covariance is singular: no FID rather than a meaningless one.
      fid: mine && theirs && mine.count > network.dim ? frechetDistance(mine, theirs).fid : null,
      class_fidelity: at(targets, c) >= 0 && seen[c] ? at(hits, c) / at(seen, c) : null,
      samples: at(seen, c),
    };
  });
  const scored = result.per_class.filter((r) => r.class_fidelity !== null);
  if (scored.length === k)
    result.class_fidelity = hits.reduce((a, b) => a + b, 0) / seen.reduce((a, b) => a + b, 0);
  return result;
}

/** What a conditional generator's evaluation adds: per class, and class fidelity overall. */
export interface ClassResult {
  class: string;
  /** FID of this class's samples against this class's real images; null when too few samples. */
  fid: number | null;
  /** Share of this class's samples the CIFAR-10 classifier calls this class (null: not a CIFAR-10 class). */
  class_fidelity: number | null;
  samples: number;
}

/**
 * For each generator class, the CIFAR-10 classifier's index of the same name (−1 when the
 * classifier has no such class, or the network is not the classifier: fidelity is then undefined).
 */
export function fidelityTargets(network: FeatureNetwork, names: string[]): number[] {
  const known: readonly string[] = network.id.startsWith('cifar10-classifier@') ? CLASS_NAMES : [];
  return names.map((n) => known.indexOf(n));
}

/** KID ± std, precision, recall (k = 3) and, with held-out images, the share of copies. */
export async function rowMeasures(fake: FeatureRows, refs: RowReferences) {
  const d = fake.data.length / fake.n;
  const firstRows = (f: FeatureRows, n: number): FeatureRows => ({
    data: f.data.subarray(0, Math.min(n, f.n) * d),
    n: Math.min(n, f.n),
  });
  const real = firstRows(refs.train, fake.n);
  const kid = await kernelInceptionDistance(real, fake);
  // Equal counts for precision and recall: each side's k-NN radii shrink as its set grows.
  const pr = await precisionRecall(real, firstRows(fake, real.n));
  const copies = refs.heldOut
    ? await copyCheck(refs.trainedOn ?? refs.train, refs.heldOut, fake)
    : undefined;
  return {
    kid: kid.kid,
    kid_std: kid.kid_std,
    precision: pr.precision,
    recall: pr.recall,
    copies: copies ? copies.copies : null,
    closest: copies?.closest ?? [],
  };
}

/**
 * weights (raw | ema …) and quantization of a generator folder, from its model.json metadata;
 * checkpoint and epoch folders carry none, and their folder names say which weights they hold.
 */
export function generatorWeights(dir: string): { weights: string; quantization: string } {
  const files = readModelFiles(dir);
  const meta = (files.modelJson as { userDefinedMetadata?: Record<string, unknown> })
    .userDefinedMetadata;
  const dtype = files.modelJson.weightsManifest?.[0]?.weights[0]?.quantization?.dtype;
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const named =
    basename(dir) === 'generator-ema' ? 'ema' : basename(dir) === 'generator' ? 'raw' : undefined;
  return {
    weights: text(meta?.['weights']) ?? named ?? 'unrecorded',
    quantization: text(meta?.['quantization']) ?? dtype ?? 'float32',
  };
}
