/**
 * The reference side of every measurement: the training set's feature statistics (whole set and
 * per class) and rows, computed once per machine and feature network and kept in ReferenceCache.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { at } from '@ganstudio/models/arrays';
import {
  collectFeatures,
  type FeatureNetwork,
  type FeatureRows,
  type FeatureStats,
} from '@ganstudio/models/eval';
import { type Resolution } from '@ganstudio/models/gan';
import { writeFileAtomic } from '@ganstudio/runs/fs-atomic';

import { defaultCacheDir, firstImages, loadCifar10, sha256File } from '../data/cifar';
import { classesOf, isCifar10, loadTrainingSet, type TrainingSet } from '../data/dataset';
import { imageBatches } from './features';

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
