/**
 * The run folder, the one description of it: its file names, config.json's schema and
 * metrics.jsonl's line types. The trainer writes it, and `bundle`, `sample`/`eval` (which find a
 * generator in it), the uploader and the gallery's run pages read it through this module.
 *
 *   config.json                    the recipe (RunConfig; version RUN_FORMAT)
 *   metrics.jsonl                  one JSON line per record (MetricRecord)
 *   samples/epoch-NNNN.png         the fixed-seed grid after epoch N (1-based)
 *   checkpoints/step-NNNNNNNN/     resumable state, pruned to the newest few
 *   epochs/epoch-NNNN/             generator(-ema), discriminator and state.json after epoch N
 *   generator-uint8/, generator-best/, best.json, card.json, state/
 */
import { appendFileSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

import type { DcganConfig, OptimizerConfig } from '@ganstudio/models/gan';
import {
  latentProtocol,
  referenceOf,
  resizeOf,
  UNRECORDED,
  type Passport,
} from '@ganstudio/models/passport';

import { writeFileAtomic } from './fs-atomic';

export class RunFolderError extends Error {}

const RUN_FILES = {
  config: 'config.json',
  metrics: 'metrics.jsonl',
  samples: 'samples',
  checkpoints: 'checkpoints',
  epochs: 'epochs',
  export: 'generator-uint8',
  best: 'generator-best',
  bestJson: 'best.json',
  card: 'card.json',
  state: 'state',
} as const;

export const MODEL_JSON = 'model.json';

/** The files and folders of a run folder, by role. */
export type RunFile = keyof typeof RUN_FILES;

/**
 * A path inside a run folder. Joined as a string, not with path.join: Next.js' output tracer
 * reads a path.join of unknown parts as "any file" and would copy the whole repository into the
 * gallery's server build.
 */
const runPath = (run: string, file: RunFile, ...rest: string[]) =>
  [run, RUN_FILES[file], ...rest].join('/');

const epochName = (epoch: number) => `epoch-${String(epoch).padStart(4, '0')}`;
const epochGridName = (epoch: number) => `${epochName(epoch)}.png`;
const checkpointName = (step: number) => `step-${String(step).padStart(8, '0')}`;
const EPOCH_NAME = /^epoch-(\d{4})(\.png)?$/;
export const CHECKPOINT_NAME = /^step-\d{8}$/;

/** Epochs kept in epochs/ (ascending). */
function keptEpochs(run: string): number[] {
  const dir = runPath(run, 'epochs');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((e) => EPOCH_NAME.exec(e))
    .filter((m): m is RegExpExecArray => m !== null && !m[2])
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/**
 * The generator a path names: a model folder (model.json), a checkpoint folder, or a run folder
 * (its newest checkpoint's generator, else its exported one) — what `sample`, `export` and
 * `eval` accept as --model.
 */
export function resolveGeneratorDir(path: string): string {
  if (!existsSync(path)) throw new RunFolderError(`${path}: no such file or directory`);
  if (!statSync(path).isDirectory() || existsSync(join(path, MODEL_JSON))) return path;
  if (existsSync(join(path, 'generator', MODEL_JSON))) return join(path, 'generator');
  const checkpoints = runPath(path, 'checkpoints');
  if (existsSync(checkpoints)) {
    const newest = readdirSync(checkpoints)
      .filter((e) => CHECKPOINT_NAME.test(e) && existsSync(join(checkpoints, e, 'state.json')))
      .sort()
      .pop();
    if (newest) return join(checkpoints, newest, 'generator');
  }
  if (existsSync(runPath(path, 'export', MODEL_JSON))) return runPath(path, 'export');
  throw new RunFolderError(`${path}: no model.json, checkpoint or exported generator found`);
}

/** The per-epoch grids in samples/ (ascending by epoch). */
function sampleGrids(run: string): { epoch: number; file: string }[] {
  const dir = runPath(run, 'samples');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((file) => ({ file, m: EPOCH_NAME.exec(file) }))
    .filter((e) => e.m?.[2] === '.png')
    .map((e) => ({ epoch: Number(e.m?.[1]), file: e.file }))
    .sort((a, b) => a.epoch - b.epoch);
}

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

/** A run folder's config.json; errors name the folder, for one clear line. */
function readRunConfig<T = RunConfig>(run: string): T {
  const path = runPath(run, 'config');
  if (!existsSync(path)) throw new RunFolderError(`${run} has no config.json (not a run folder)`);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    throw new RunFolderError(`${path} is not valid JSON`);
  }
}

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
export interface BestRecord {
  fid: number;
  samples: number;
  feature_network: string;
  epoch: number;
  step: number;
  is_mean?: number;
  is_std?: number;
  reference?: string;
  kid?: number;
  kid_std?: number;
  precision?: number;
  recall?: number;
  /** The lowest KID the run has measured (not necessarily the best's: see the trainer's takesBest). */
  lowest?: { kid: number; kid_std: number; epoch: number };
}

function readBest(run: string): BestRecord | undefined {
  const path = runPath(run, 'bestJson');
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as BestRecord) : undefined;
}

function writeBest(run: string, best: BestRecord): void {
  writeFileAtomic(runPath(run, 'bestJson'), JSON.stringify(best) + '\n');
}

function writeRunConfig(run: string, config: object): void {
  writeFileAtomic(runPath(run, 'config'), JSON.stringify(config, null, 2) + '\n');
}

// ---- metrics.jsonl -------------------------------------------------------------------------
//
// Every record's `epoch` is 1-based: a step line's epoch is the epoch the step belongs to, an
// FID line's the number of epochs completed when it was measured, so both lines at the last step
// of epoch 3 say 3. Files written before 2026-12-01 counted step lines from 0; their first line
// is not a `format` header, and readMetrics adds 1 to their step lines.

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

export interface FidRecord {
  type: 'fid';
  epoch: number;
  step: number;
  fid: number;
  is_mean?: number;
  is_std?: number;
  samples: number;
  feature_network: string;
  /** The reference set's description, e.g. "cifar10-train@sha256:…(50000)" (absent in older runs). */
  reference?: string;
  /** raw | ema: which generator weights were measured (absent in older runs). */
  weights?: string;
  /** A conditional run's: share of samples the CIFAR-10 classifier calls the class they were drawn in. */
  class_fidelity?: number;
  /** KID ± std (100 subsets), precision and recall (k = 3) against the first `samples` training images. */
  kid?: number;
  kid_std?: number;
  precision?: number;
  recall?: number;
  /** Share of samples nearer the training set than 99% of held-out real images (end of run, CIFAR-10). */
  copies?: number;
  /** What the numbers were measured with (absent in runs older than passports). */
  passport?: Passport;
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

export interface ScalePoint {
  fid: number;
  kid: number;
  kid_std: number;
  precision: number;
  recall: number;
}

/** Any other record (the classifier's epochs, …). */
export interface OtherRecord {
  type: string;
  step: number;
  epoch?: number;
  [key: string]: unknown;
}

export type MetricRecord = StepRecord | FidRecord | SeamRecord | ScaleRecord | OtherRecord;

const HEADER = { type: 'format', version: RUN_FORMAT, epoch_base: 1 } as const;

export const isStep = (r: MetricRecord): r is StepRecord => r.type === 'step';
export const isSeam = (r: MetricRecord): r is SeamRecord => r.type === 'seam';
export const isScale = (r: MetricRecord): r is ScaleRecord =>
  r.type === 'scale' && typeof (r as ScaleRecord).passport === 'object';

/**
 * A measurement line's passport: its own, or for lines older than passports the one its fields
 * imply (the trainer has always measured float32 weights on the stream-batches protocol); what
 * an old line did not record is "unrecorded", so it never matches a recorded value.
 */
export function recordPassport(r: FidRecord, side: number, conditional: boolean): Passport {
  return (
    r.passport ?? {
      feature_network: r.feature_network,
      resize: resizeOf(r.feature_network, side),
      samples: r.samples,
      reference: referenceOf(r.reference),
      latent_protocol: latentProtocol(Infinity, conditional),
      weights: r.weights ?? UNRECORDED,
      quantization: 'float32',
    }
  );
}
export const isFid = (r: MetricRecord): r is FidRecord =>
  r.type === 'fid' && Number.isFinite((r as FidRecord).fid);

function parseLines(path: string): { records: MetricRecord[]; current: boolean } {
  if (!existsSync(path)) return { records: [], current: true };
  const records: MetricRecord[] = [];
  let current = false;
  let first = true;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    let r: MetricRecord;
    try {
      r = JSON.parse(line) as MetricRecord;
    } catch {
      break; // a torn final line from a crash mid-append
    }
    if (first && r.type === 'format') current = true;
    else records.push(r);
    first = false;
  }
  if (!current)
    for (const r of records) if (r.type === 'step' && typeof r.epoch === 'number') r.epoch += 1;
  return { records, current: current || records.length === 0 };
}

/** metrics.jsonl of `run`, every epoch 1-based, without the format header. */
function readMetrics(run: string): MetricRecord[] {
  return parseLines(runPath(run, 'metrics')).records;
}

/** Rewrites metrics.jsonl (current format) with `records`, atomically. */
function writeMetrics(run: string, records: readonly MetricRecord[]): void {
  writeFileAtomic(
    runPath(run, 'metrics'),
    [HEADER, ...records].map((r) => JSON.stringify(r) + '\n').join(''),
  );
}

/** Keeps only records up to `step` (inclusive); a crash never leaves duplicated or torn lines. */
function truncateMetrics(run: string, step: number): number {
  const kept = readMetrics(run).filter((r) => r.step <= step);
  writeMetrics(run, kept);
  return kept.length;
}

/** Files this process has seen start with the header (checked once, not per append). */
const headed = new Set<string>();

/** Appends one record (one write); a file without the header (old or new) is rewritten first. */
function appendMetric(run: string, record: MetricRecord): void {
  const path = runPath(run, 'metrics');
  if (!headed.has(path) || !existsSync(path)) {
    const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
    if (!text.startsWith('{"type":"format"')) writeMetrics(run, parseLines(path).records);
    headed.add(path);
  }
  appendFileSync(path, JSON.stringify(record) + '\n');
}

// ---- the one way in -----------------------------------------------------------------------

/**
 * A run folder (layout at the top of this file). Its methods are the only way to name its files
 * and to read or write its records, so the trainer, `bundle`, carrying and the uploader cannot
 * disagree on a name, a zero-padding or a record's shape.
 */
export class RunFolder {
  constructor(readonly dir: string) {}

  /** A file or folder of the run by its role, then deeper segments. */
  path(file: RunFile, ...rest: string[]): string {
    return runPath(this.dir, file, ...rest);
  }

  /** epochs/epoch-NNNN/: the generators (and D) kept at the end of 1-based `epoch`. */
  epochDir(epoch: number, ...rest: string[]): string {
    return runPath(this.dir, 'epochs', epochName(epoch), ...rest);
  }

  /** samples/epoch-NNNN.png: the fixed-seed grid after `epoch`. */
  epochGrid(epoch: number): string {
    return runPath(this.dir, 'samples', epochGridName(epoch));
  }

  /** checkpoints/step-NNNNNNNN/: the resumable state after `step`. */
  checkpointDir(step: number, ...rest: string[]): string {
    return runPath(this.dir, 'checkpoints', checkpointName(step), ...rest);
  }

  /** The steps of the checkpoints kept (ascending), complete ones (with state.json) only. */
  checkpointSteps(): number[] {
    const dir = runPath(this.dir, 'checkpoints');
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((e) => CHECKPOINT_NAME.test(e) && existsSync(join(dir, e, 'state.json')))
      .map((e) => Number(e.slice('step-'.length)))
      .sort((a, b) => a - b);
  }

  /** Epochs kept in epochs/ (ascending). */
  keptEpochs(): number[] {
    return keptEpochs(this.dir);
  }

  /** The per-epoch grids in samples/ (ascending by epoch). */
  sampleGrids(): { epoch: number; file: string }[] {
    return sampleGrids(this.dir);
  }

  /** config.json; errors name the folder, for one clear line. */
  readConfig<T = RunConfig>(): T {
    return readRunConfig<T>(this.dir);
  }

  writeConfig(config: object): void {
    writeRunConfig(this.dir, config);
  }

  readBest(): BestRecord | undefined {
    return readBest(this.dir);
  }

  writeBest(best: BestRecord): void {
    writeBest(this.dir, best);
  }

  /** metrics.jsonl, every epoch 1-based, without the format header. */
  readMetrics(): MetricRecord[] {
    return readMetrics(this.dir);
  }

  /** Rewrites metrics.jsonl (current format) with `records`, atomically. */
  writeMetrics(records: readonly MetricRecord[]): void {
    writeMetrics(this.dir, records);
  }

  /** Keeps only records up to `step` (inclusive); returns how many remain. */
  truncateMetrics(step: number): number {
    return truncateMetrics(this.dir, step);
  }

  /** Appends one record (one write). */
  appendMetric(record: MetricRecord): void {
    appendMetric(this.dir, record);
  }
}
