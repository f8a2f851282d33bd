/**
 * `eval` and the trainer's periodic measurement: sample a generator (or take real or noise
 * images), run them through a feature network, compare with the cached reference statistics and
 * rows of the training set, report FID, IS, KID, precision/recall and copies with their passport.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { at } from '@ganstudio/models/arrays';
import {
  CLASSIFIER_PROTOCOL,
  classifierNetwork,
  collectFeatures,
  copyCheck,
  frechetDistance,
  inceptionNetwork,
  inceptionScore,
  kernelInceptionDistance,
  precisionRecall,
  type FeatureNetwork,
  type FeatureRows,
  type FeatureStats,
} from '@ganstudio/models/eval';
import {
  classCountOf,
  generateFromLatents,
  latentDimOf,
  seededLatents,
  type Resolution,
} from '@ganstudio/models/gan';
import { latentProtocol, referenceOf, resizeOf, type Passport } from '@ganstudio/models/passport';
import { loadModelFromFiles } from '@ganstudio/models/weights';
import { writeFileAtomic } from '@ganstudio/runs/fs-atomic';

import { batchTensor } from './batches';
import {
  CLASS_NAMES,
  defaultCacheDir,
  firstImages,
  loadCifar10,
  sha256File,
  type PlanarImages,
} from './cifar';
import { classesOf, isCifar10, loadTrainingSet, type TrainingSet } from './dataset';
import { UserError } from './errors';
import { readModelFiles } from './model-io';

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

interface CachedStats {
  network: string;
  dataset_sha256: string;
  split: string;
  dim: number;
  count: number;
}

function statsToBytes(s: FeatureStats): Uint8Array {
  const all = new Float64Array(s.dim + s.dim * s.dim);
  all.set(s.mean, 0);
  all.set(s.cov, s.dim);
  return new Uint8Array(all.buffer);
}

/**
 * The cache files of one reference set (a CIFAR-10 split, or your prepared images) under one
 * feature network: every file name is built here, from one key of the data's content and the
 * network's id.
 */
export class ReferenceCache {
  constructor(
    readonly dir: string,
    private readonly key: string,
  ) {}

  private file(suffix: string) {
    return join(this.dir, `${this.key}${suffix}`);
  }
  /** μ, Σ (float64) of the set, or of its first `first` images (a run on a --limit). */
  stats(first?: number) {
    return this.file(`${first === undefined ? '' : `-first${first}`}.bin`);
  }
  /** What stats(first) holds: network, dataset digest, split, dim and count. */
  meta(first?: number) {
    return this.file(`${first === undefined ? '' : `-first${first}`}.json`);
  }
  /** Feature rows [n, d] (float32): written with stats(first), or alone by referenceRows. */
  rows(n: number, first?: number) {
    return this.file(`${first === undefined ? '' : `-first${first}`}-rows${n}.bin`);
  }
  /** Per-class μ, Σ, and their class counts. */
  classStats() {
    return this.file('-classes.bin');
  }
  classMeta() {
    return this.file('-classes.json');
  }
  /** Row files of limited passes (rows(n, first)) that hold at least `n` rows. */
  limitedPassesWithRows(n: number): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir).flatMap((file) => {
      if (!file.startsWith(this.key)) return [];
      const m = /^-first\d+-rows(\d+)\.bin$/.exec(file.slice(this.key.length));
      return m && Number(m[1]) >= n ? [join(this.dir, file)] : [];
    });
  }
}

/** Where the reference features of `dataPath` under `network` are cached, and what they are called. */
async function statsCacheOf(
  network: FeatureNetwork,
  dataPath: string,
  split: 'train' | 'test',
  resolution: Resolution,
  set: TrainingSet | undefined,
) {
  // Your own images: the prepared set at the model's resolution, statistics in the cache folder
  // (never inside the user's image folder).
  const images = set
    ? set.kind === 'images'
      ? set
      : undefined
    : isCifar10(dataPath)
      ? undefined
      : await loadTrainingSet(dataPath, { resolution });
  const isFile = existsSync(dataPath) && statSync(dataPath).isFile();
  const datasetHash = images
    ? (images.key ?? createHash('sha256').update(images.description).digest('hex'))
    : isFile
      ? await sha256File(dataPath)
      : createHash('sha256').update(`folder:${dataPath}`).digest('hex');
  const key = `${datasetHash.slice(0, 16)}-${network.id.replace(/[^\w.@-]/g, '_')}-${images ? `x${resolution}` : split}`;
  // Keyed by content, so one folder serves every copy of a dataset; never beside the data, which
  // may be read-only (a shared or mounted copy) and would then be measured again on every run.
  const dir = join(defaultCacheDir(), 'fid');
  const description = images
    ? images.description
    : `cifar10-${split}@sha256:${datasetHash.slice(0, 16)}`;
  return { images, cache: new ReferenceCache(dir, key), description, datasetHash };
}

/** How a reference pass finds its images and reports: shared by the statistics and the rows. */
export interface ReferenceOptions {
  /** Your own images are prepared at the generator's side (CIFAR-10 is 32). */
  resolution?: Resolution;
  /** --data as the caller already loaded it (train): not listed and hashed a second time. */
  set?: TrainingSet;
  batchSize?: number;
  log?: (line: string) => void;
  /** Progress of the one-time pass over the split: (images done, images in all). */
  progress?: (total: number) => (done: number) => void;
}

/**
 * Writes a cache's files (best effort: a read-only dataset folder only costs the next run a pass),
 * creating its folder; `what` names it in the warning.
 */
function writeCache(
  dir: string,
  files: [path: string, bytes: Uint8Array | string][],
  what: string,
  log?: (line: string) => void,
): void {
  try {
    mkdirSync(dir, { recursive: true });
    for (const [path, bytes] of files) writeFileAtomic(path, bytes);
  } catch (err) {
    log?.(`warning: could not cache ${what} in ${dir}: ${(err as Error).message}`);
  }
}

/**
 * Reference images beyond a limited run's own: enough for a covariance of the classifier's
 * features, few enough that a 256-image smoke run measures in seconds on a cold cache.
 */
const REFERENCE_MARGIN = 5_000;

/**
 * The reference a run on the first `limit` images is measured against (as referenceStats'
 * options): those images and REFERENCE_MARGIN more, not a 50,000-image split it never trains on.
 * The count is in the reference's description, so the passport names it.
 */
export const referenceCount = (limit: number | null): { count?: number } =>
  limit === null ? {} : { count: limit + REFERENCE_MARGIN };

/**
 * μ, Σ of the reference set under `network`, computed once and cached in the cache folder's
 * `fid/`: for CIFAR-10 a split (or its first `count` images), keyed by the file's sha256 and the
 * network id; for your own images the whole prepared set at `resolution`, keyed by its content.
 * Its description names it beside every number.
 */
export async function referenceStats(
  network: FeatureNetwork,
  dataPath: string,
  options: ReferenceOptions & {
    split?: 'train' | 'test';
    /** The first `count` images only (a run on a --limit): named in the description and passport. */
    count?: number;
  } = {},
): Promise<{ stats: FeatureStats; description: string; cached: boolean }> {
  const split = options.split ?? 'train';
  const resolution = options.resolution ?? 32;
  const { images, cache, description, datasetHash } = await statsCacheOf(
    network,
    dataPath,
    split,
    resolution,
    options.set,
  );
  const { dir } = cache;
  const [jsonPath, binPath] = [cache.meta(options.count), cache.stats(options.count)];
  if (existsSync(jsonPath) && existsSync(binPath)) {
    const meta = JSON.parse(readFileSync(jsonPath, 'utf8')) as CachedStats;
    const bytes = readFileSync(binPath);
    const floats = new Float64Array(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    );
    if (
      meta.network === network.id &&
      meta.dim === network.dim &&
      floats.length === meta.dim * (meta.dim + 1)
    ) {
      const stats = {
        dim: meta.dim,
        count: meta.count,
        mean: floats.slice(0, meta.dim),
        cov: floats.slice(meta.dim),
      };
      return { stats, description: `${description}(${meta.count})`, cached: true };
    }
  }
  const whole = images?.data ?? loadCifar10(dataPath, split);
  const data = options.count === undefined ? whole : firstImages(whole, options.count);
  options.log?.(
    `computing reference statistics of ${data.count} ${images ? '' : `${split} `}images under ${network.id} (once; cached in ${dir})`,
  );
  // The rows come with the pass: KID, precision/recall and the copy check read them from the cache.
  const { stats, rows } = await collectFeatures(
    network,
    data.count,
    options.batchSize ?? 250,
    imageBatches(data),
    { onBatch: options.progress?.(data.count), keepRows: true },
  );
  const meta: CachedStats = {
    network: network.id,
    dataset_sha256: datasetHash,
    split,
    dim: stats.dim,
    count: stats.count,
  };
  writeCache(
    dir,
    [
      [binPath, statsToBytes(stats)],
      ...(rows
        ? [
            [
              cache.rows(data.count, options.count),
              new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength),
            ] as [string, Uint8Array],
          ]
        : []),
      [jsonPath, JSON.stringify(meta)],
    ],
    'reference statistics',
    options.log,
  );
  return { stats, description: `${description}(${stats.count})`, cached: false };
}

export interface EvalResult {
  fid: number;
  is_mean: number;
  is_std: number;
  feature_network: string;
  samples: number;
  reference: string;
  /** A conditional generator's: share of samples the CIFAR-10 classifier calls their class. */
  class_fidelity?: number;
  per_class?: ClassResult[];
  /** With reference rows: KID ± std (Bińkowski et al. 2018), precision and recall (k = 3). */
  kid?: number;
  kid_std?: number;
  precision?: number;
  recall?: number;
  /** Share of samples nearer the training set than held-out real images come (null: no held-out set). */
  copies?: number | null;
  /** What the numbers were measured with (set by the caller, who knows the weights). */
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

/**
 * Diversity of a sample set (the shipped generator's mode-collapse check): mean and minimum over pairs i ≠ j of
 * the RMS difference between rows of [n, d] (for images in [-1, 1], in tanh units).
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

/**
 * μ, Σ of each class of the reference training set (CIFAR-10's labels, or your subfolders), for
 * per-class FID: one pass over the set, cached beside the whole-set statistics. A class with
 * fewer than two images has none.
 */
export async function referenceClassStats(
  network: FeatureNetwork,
  dataPath: string,
  options: ReferenceOptions = {},
): Promise<{ names: string[]; stats: (FeatureStats | undefined)[] }> {
  const resolution = options.resolution ?? 32;
  const set: TrainingSet =
    options.set ??
    (isCifar10(dataPath)
      ? { data: loadCifar10(dataPath, 'train'), kind: 'cifar10', description: 'cifar10-train' }
      : await loadTrainingSet(dataPath, { resolution }));
  const names = classesOf(set, dataPath, 1);
  const { cache } = await statsCacheOf(network, dataPath, 'train', resolution, set);
  const block = network.dim + network.dim * network.dim;
  if (existsSync(cache.classMeta()) && existsSync(cache.classStats())) {
    const meta = JSON.parse(readFileSync(cache.classMeta(), 'utf8')) as { counts: number[] };
    const bytes = readFileSync(cache.classStats());
    const floats = new Float64Array(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    );
    if (meta.counts.length === names.length && floats.length === names.length * block)
      return {
        names,
        stats: meta.counts.map((count, c) =>
          count < 2
            ? undefined
            : {
                dim: network.dim,
                count,
                mean: floats.slice(c * block, c * block + network.dim),
                cov: floats.slice(c * block + network.dim, (c + 1) * block),
              },
        ),
      };
  }
  const { data } = set;
  options.log?.(
    `computing per-class reference statistics of ${data.count} images under ${network.id} (once; cached in ${cache.dir})`,
  );
  const got = await collectFeatures(
    network,
    data.count,
    options.batchSize ?? 250,
    imageBatches(data),
    {
      onBatch: options.progress?.(data.count),
      groups: { of: (i) => at(data.labels, i), count: names.length },
    },
  );
  const stats = got.groupStats ?? [];
  const all = new Float64Array(names.length * block);
  stats.forEach((st, c) => {
    if (st) all.set(new Float64Array(statsToBytes(st).buffer), c * block);
  });
  writeCache(
    cache.dir,
    [
      [cache.classStats(), new Uint8Array(all.buffer)],
      [
        cache.classMeta(),
        JSON.stringify({ network: network.id, counts: stats.map((st) => st?.count ?? 0) }),
      ],
    ],
    'per-class statistics',
    options.log,
  );
  return { names, stats };
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

/**
 * Feature rows of the first `count` images of a reference split (CIFAR-10's train or test, or
 * your whole prepared set as 'train'), cached beside its statistics: KID, precision/recall and the
 * copy check compare rows, not moments.
 */
export async function referenceRows(
  network: FeatureNetwork,
  dataPath: string,
  options: ReferenceOptions & { split?: 'train' | 'test'; count?: number } = {},
): Promise<FeatureRows & { description: string }> {
  const split = options.split ?? 'train';
  const resolution = options.resolution ?? 32;
  const data =
    options.set?.data ??
    (isCifar10(dataPath)
      ? loadCifar10(dataPath, split)
      : (await loadTrainingSet(dataPath, { resolution })).data);
  const n = Math.min(options.count ?? data.count, data.count);
  const reference = await statsCacheOf(network, dataPath, split, resolution, options.set);
  const { cache } = reference;
  const description = `${reference.description}(${n})`;
  // This count's own cache, else the first n rows of a reference pass over at least n images:
  // the whole split's, or a limited run's first images (each written with its statistics).
  for (const path of [cache.rows(n), cache.rows(data.count), ...cache.limitedPassesWithRows(n)]) {
    if (!existsSync(path)) continue;
    const bytes = readFileSync(path);
    if (bytes.byteLength >= n * network.dim * 4 && bytes.byteLength % (network.dim * 4) === 0)
      return {
        data: new Float32Array(
          bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + n * network.dim * 4),
        ),
        n,
        description,
      };
  }
  options.log?.(
    `computing features of ${n} ${split} images under ${network.id} (once; cached in ${cache.dir})`,
  );
  const got = await collectFeatures(network, n, options.batchSize ?? 250, imageBatches(data), {
    onBatch: options.progress?.(n),
    keepRows: true,
  });
  const rows = got.rows ?? new Float32Array(0);
  writeCache(
    cache.dir,
    [[cache.rows(n), new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength)]],
    'feature rows',
    options.log,
  );
  return { data: rows, n, description };
}

/** What rows-based measures compare the samples with. */
export interface RowReferences {
  /** Training images' rows: KID and precision/recall use the first as many as there are samples. */
  train: FeatureRows;
  /** Held-out real images' rows (CIFAR-10's test split): the copy check's scale; none for your own images. */
  heldOut?: FeatureRows;
  /** The images a run trained on (its --limit), when not all of `train`: what a copy would copy. */
  trainedOn?: FeatureRows;
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
 * The passport of a measurement of `samples` images of side `side` under `network` against
 * `reference` (its description): for a generator, its latent protocol and weights; for real or
 * noise images, what they are.
 */
export function measurementPassport(
  network: FeatureNetwork,
  side: number,
  samples: number,
  reference: string,
  source:
    | {
        generator: {
          truncation?: number;
          conditional: boolean;
          weights: string;
          quantization: string;
        };
      }
    | { images: string },
): Passport {
  return {
    feature_network: network.id,
    resize: resizeOf(network.id, side),
    samples,
    reference: referenceOf(reference, /-test@/.test(reference) ? 'test' : 'train'),
    ...('generator' in source
      ? {
          latent_protocol: latentProtocol(
            source.generator.truncation,
            source.generator.conditional,
          ),
          weights: source.generator.weights,
          quantization: source.generator.quantization,
        }
      : { latent_protocol: source.images, weights: 'none', quantization: 'none' }),
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
