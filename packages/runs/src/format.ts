/**
 * The run folder's formats without the folder: config.json's schema, metrics.jsonl's line types,
 * best.json, and what may leave the machine. Pure (no file system), so the gallery's API reads
 * the same types the trainer writes; folder.ts reads and writes them on disk.
 */
import type { DcganConfig, OptimizerConfig } from '@ganstudio/models/gan';
import type { Measurement, ScalePoint } from '@ganstudio/models/measurement';
import type { Passport } from '@ganstudio/models/passport';

/**
 * config.json of a GAN run. `version` 2 since metrics.jsonl's step lines count epochs from 1
 * (readMetrics reads both); the classifier trainer's runs share the folder layout, not this type.
 */
export interface RunConfig {
  version: number;
  /** --data as given, for --resume on this machine; published and bundled copies keep its name only. */
  data: string;
  /** The data as an identity (name, digest of the prepared images, count): what a run trained on. */
  dataset?: { name: string; digest: string; images: number };
  limit: number | null;
  epochs: number;
  batchSize: number;
  optimizer: OptimizerConfig;
  model: DcganConfig;
  /** Grid every N epochs (and at the end). */
  sampleEvery: number;
  /** Also checkpoint every N steps inside an epoch (epoch ends always checkpoint). */
  checkpointEvery: number;
  logEvery: number;
  /** Seed of the fixed latent grid, so epochs compare image for image. */
  sampleSeed: number;
  sampleCount: number;
  /** Decay of the generator's weight EMA, or null for none (run folders from before it had none). */
  ema?: number | null;
  /**
   * Classifier FID every N epochs (0: never) on `samples` samples, and at the end on
   * `finalSamples` (null: proportionate to the run).
   */
  fid?: { every: number; samples: number; finalSamples: number | null; classifier: string | null };
  /** Undecodable image files stop the run instead of being skipped (your own images only). */
  strict?: boolean;
  /** The backend that trained it (written by the trainer). */
  backend?: string;
  /** Class-conditional: G and D take each image's class (`model.classes` of them). */
  conditional?: boolean;
  /** The classes' names, index order (CIFAR-10's, or the subfolders of --data); set by the trainer. */
  classNames?: string[];
}

export const RUN_FORMAT = 2;

// ---- what leaves the machine ------------------------------------------------------------
//
// A run folder names the files it was made from by where they were (config.json's `data`, an
// export's `run`), which is the trainer's business; what is bundled, committed or uploaded to a
// gallery is everybody's, so it never carries a path of the machine (a home folder names its user).

/** An absolute path of some machine: `/…`, `~/…`, `C:\…` or `\\server\…`. */
export const isMachinePath = (text: string): boolean =>
  /^(\/|~[\\/]|~$|[A-Za-z]:[\\/]|\\\\)/.test(text);

/** The last segment of a machine path (its file or folder name); other strings as they are. */
export const publicName = (text: string): string =>
  isMachinePath(text)
    ? (text
        .split(/[\\/]+/)
        .filter(Boolean)
        .pop() ?? '')
    : text;

/** `value` with every string that is a machine path replaced by its last segment, at any depth. */
export function withoutMachinePaths<T>(value: T): T {
  if (typeof value === 'string') return publicName(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => withoutMachinePaths(v)) as T;
  if (value && typeof value === 'object' && !ArrayBuffer.isView(value))
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, withoutMachinePaths(v)]),
    ) as T;
  return value;
}

/**
 * best.json: the periodic measurement that made generator-best/ the best, with where it was taken.
 * Read and written only here, so the trainer and a resumed run agree on its shape.
 */
export interface BestRecord extends Omit<Measurement, 'passport'> {
  samples: number;
  feature_network: string;
  epoch: number;
  step: number;
  reference?: string;
  /** The lowest KID the run has measured (not necessarily the best's: see the trainer's takesBest). */
  lowest?: { kid: number; kid_std: number; epoch: number };
}

// ---- metrics.jsonl -------------------------------------------------------------------------
//
// Every record's `epoch` is 1-based: a step line's epoch is the epoch the step belongs to, a
// measurement line's the number of epochs completed when it was measured, so both lines at the
// last step of epoch 3 say 3. The file opens with a `format` header (RUN_FORMAT).

export interface StepRecord {
  type: 'step';
  epoch: number;
  step: number;
  d_loss: number;
  g_loss: number;
  /** Mean D(x) on the real batch (sigmoid of the logit). */
  d_x: number;
  /** Mean D(G(z)) on the fake batch before the D update. */
  d_g_z: number;
  images_per_sec: number;
  /** Seconds of training (all sittings) at this step. */
  elapsed_s: number;
}

/**
 * A measurement line (`"type": "fid"`, its name since the first run, though it carries every
 * measure): the Measurement, where in the run it was taken, and how.
 */
export interface MeasurementRecord extends Measurement {
  type: 'fid';
  epoch: number;
  step: number;
  samples: number;
  feature_network: string;
  /** The reference set's description, e.g. "cifar10-train@sha256:…(50000)". */
  reference?: string;
  /** raw | ema: which generator weights were measured. */
  weights?: string;
  /** The backend the features were computed on, and the seconds it took. */
  backend?: string;
  seconds?: number;
}

/**
 * Where a carried run continues (`train --carry-from`): the steps before it come from the run it
 * was carried from (named, never a path), the optimizer restarted here.
 */
export interface SeamRecord {
  type: 'seam';
  step: number;
  epoch: number;
  /** The carried run's folder name. */
  from: string;
  optimizer: 'restarted';
  note: string;
}

/**
 * Where a run's numbers sit between the best and the worst there is, on the passport of its
 * periodic measurement: real test images (the floor) and uniform noise (the ceiling) measured
 * with the same network, counts and reference, once as the run starts.
 */
export interface ScaleRecord {
  type: 'scale';
  step: number;
  epoch: number;
  floor: ScalePoint;
  ceiling: ScalePoint;
  /** The passport of the generator lines these bracket. */
  passport: Passport;
}

/** Any other record (the classifier's epochs, …). */
export interface OtherRecord {
  type: string;
  step: number;
  epoch?: number;
  [key: string]: unknown;
}

export type MetricRecord = StepRecord | MeasurementRecord | SeamRecord | ScaleRecord | OtherRecord;

export const isStep = (r: MetricRecord): r is StepRecord => r.type === 'step';
export const isSeam = (r: MetricRecord): r is SeamRecord => r.type === 'seam';
export const isScale = (r: MetricRecord): r is ScaleRecord =>
  r.type === 'scale' && typeof (r as ScaleRecord).passport === 'object';

/** A measurement line with its passport (lines from before passports, 2026-12-05, count as none). */
export const isMeasurement = (r: MetricRecord): r is MeasurementRecord =>
  r.type === 'fid' &&
  Number.isFinite((r as MeasurementRecord).fid) &&
  typeof (r as Partial<MeasurementRecord>).passport === 'object';

// ---- what a gallery registers of a folder ---------------------------------------------------

/** A generator as tf.io writes it: model.json (with paths of this machine dropped) and its weights. */
export interface GeneratorFiles {
  modelJson: {
    modelTopology?: unknown;
    format?: string;
    generatedBy?: string;
    convertedBy?: string | null;
    weightsManifest: {
      paths: string[];
      weights: { name: string; shape: number[]; dtype: string; quantization?: { dtype: string } }[];
    }[];
    userDefinedMetadata?: Record<string, unknown>;
  };
  /** weights.bin, read when asked for. */
  weights: () => Uint8Array;
}

/**
 * What the gallery registers of a run folder, read once and machine-free: config.json,
 * metrics.jsonl, the per-epoch grids, card.json, and the exported generator where there is one.
 */
export interface RunPublication {
  /** The folder's own name: the run id unless one is given. */
  name: string;
  config: Record<string, unknown>;
  lines: MetricRecord[];
  grids: { epoch: number; file: string; bytes: () => Uint8Array }[];
  card: { name?: string; note?: string };
  generator?: GeneratorFiles;
}

/** A real-image set as `ganstudio real-set` writes it: real-set.json and count × 3,072 bytes of RGB. */
export interface RealSetFiles {
  manifest: {
    id?: string;
    name?: string;
    source?: string;
    count?: number;
    labels?: number[];
    classes?: unknown;
  };
  pixels: Uint8Array;
}

/** How a gallery reads the folders it seeds from (folderReader in folder.ts is the one on disk). */
export interface FolderReader {
  publication(dir: string): RunPublication;
  realSet(dir: string): RealSetFiles;
}
