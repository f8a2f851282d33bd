/**
 * The run folder on disk, the one description of it: its file names and how its records are read
 * and written (their shapes are in format.ts). The trainer writes it, and `bundle`, `sample`/`eval`
 * (which find a generator in it) and the gallery's uploader read it through RunFolder.
 *
 *   config.json                    the recipe (RunConfig; version RUN_FORMAT)
 *   metrics.jsonl                  one JSON line per record (MetricRecord)
 *   samples/epoch-NNNN.png         the fixed-seed grid after epoch N (1-based)
 *   checkpoints/step-NNNNNNNN/     resumable state, pruned to the newest few
 *   epochs/epoch-NNNN/             generator(-ema), discriminator and state.json after epoch N
 *   generator-uint8/, generator-best/, best.json, card.json, state/
 */
import {
  appendFileSync,
  existsSync,
  lstatSync,
  readdirSync,
  readFileSync,
  statSync,
} from 'node:fs';
import { basename, join } from 'node:path';

import {
  RUN_FORMAT,
  withoutMachinePaths,
  type BestRecord,
  type FolderReader,
  type GeneratorFiles,
  type MetricRecord,
  type RealSetFiles,
  type RunConfig,
  type RunPublication,
} from './format';
import { writeFileAtomic } from './fs-atomic';

export * from './format';

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
const checkpointName = (step: number) => `step-${String(step).padStart(8, '0')}`;
const EPOCH_NAME = /^epoch-(\d{4})(\.png)?$/;
export const CHECKPOINT_NAME = /^step-\d{8}$/;

const HEADER = { type: 'format', version: RUN_FORMAT, epoch_base: 1 } as const;

/** Files this process has seen start with the header (checked once, not per append). */
const headed = new Set<string>();

/**
 * The generator a path names: a model folder (model.json), a checkpoint folder, or a run folder
 * (its newest checkpoint's generator, else its exported one) — what `sample`, `export` and
 * `eval` accept as --model.
 */
export function resolveGeneratorDir(path: string): string {
  if (!existsSync(path)) throw new RunFolderError(`${path}: no such file or directory`);
  if (!statSync(path).isDirectory() || existsSync(join(path, MODEL_JSON))) return path;
  if (existsSync(join(path, 'generator', MODEL_JSON))) return join(path, 'generator');
  const run = new RunFolder(path);
  const newest = run.checkpointSteps().pop();
  if (newest !== undefined) return run.checkpointDir(newest, 'generator');
  if (existsSync(run.path('export', MODEL_JSON))) return run.path('export');
  throw new RunFolderError(`${path}: no model.json, checkpoint or exported generator found`);
}

/**
 * Reads a file for publishing, refusing symlinks: a link planted in a run folder (or in a bundled
 * run of a cloned repository) would otherwise upload whatever file it points at, such as
 * ~/.ssh/id_ed25519 as weights.bin, to a public blob store. A missing file is reported by the read.
 */
function readOwnFile(path: string): Uint8Array {
  refuseSymlink(path);
  return new Uint8Array(readFileSync(path));
}

function refuseSymlink(path: string): void {
  let link = false;
  try {
    link = lstatSync(path).isSymbolicLink();
  } catch {
    return;
  }
  if (link)
    throw new RunFolderError(
      `${path}: is a symbolic link; upload reads only regular files of the run folder`,
    );
}

function readJsonFile(path: string): Record<string, unknown> {
  try {
    return JSON.parse(new TextDecoder().decode(readOwnFile(path))) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof RunFolderError) throw err;
    throw new RunFolderError(
      `${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'not valid JSON'}`,
    );
  }
}

export function readRealSet(dir: string): RealSetFiles {
  return {
    manifest: readJsonFile(join(dir, 'real-set.json')),
    pixels: readOwnFile(join(dir, 'images.bin')),
  };
}

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
    return this.path('epochs', epochName(epoch), ...rest);
  }

  /** samples/epoch-NNNN.png: the fixed-seed grid after `epoch`. */
  epochGrid(epoch: number): string {
    return this.path('samples', `${epochName(epoch)}.png`);
  }

  /** checkpoints/step-NNNNNNNN/: the resumable state after `step`. */
  checkpointDir(step: number, ...rest: string[]): string {
    return this.path('checkpoints', checkpointName(step), ...rest);
  }

  /** The steps of the checkpoints kept (ascending), complete ones (with state.json) only. */
  checkpointSteps(): number[] {
    const dir = this.path('checkpoints');
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((e) => CHECKPOINT_NAME.test(e) && existsSync(join(dir, e, 'state.json')))
      .map((e) => Number(e.slice('step-'.length)))
      .sort((a, b) => a - b);
  }

  /** Epochs kept in epochs/ (ascending). */
  keptEpochs(): number[] {
    const dir = this.path('epochs');
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .map((e) => EPOCH_NAME.exec(e))
      .filter((m): m is RegExpExecArray => m !== null && !m[2])
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
  }

  /** The per-epoch grids in samples/ (ascending by epoch). */
  sampleGrids(): { epoch: number; file: string }[] {
    const dir = this.path('samples');
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .map((file) => ({ file, m: EPOCH_NAME.exec(file) }))
      .filter((e) => e.m?.[2] === '.png')
      .map((e) => ({ epoch: Number(e.m?.[1]), file: e.file }))
      .sort((a, b) => a.epoch - b.epoch);
  }

  /** config.json; errors name the folder, for one clear line. */
  readConfig<T = RunConfig>(): T {
    const path = this.path('config');
    if (!existsSync(path))
      throw new RunFolderError(`${this.dir} has no config.json (not a run folder)`);
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as T;
    } catch {
      throw new RunFolderError(`${path} is not valid JSON`);
    }
  }

  writeConfig(config: object): void {
    writeFileAtomic(this.path('config'), JSON.stringify(config, null, 2) + '\n');
  }

  /** best.json, read and written only here, so the trainer and a resumed run agree on its shape. */
  readBest(): BestRecord | undefined {
    const path = this.path('bestJson');
    return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as BestRecord) : undefined;
  }

  writeBest(best: BestRecord): void {
    writeFileAtomic(this.path('bestJson'), JSON.stringify(best) + '\n');
  }

  /** metrics.jsonl, every epoch 1-based, without the format header. */
  readMetrics(): MetricRecord[] {
    return this.parseMetrics();
  }

  /** Rewrites metrics.jsonl (current format) with `records`, atomically. */
  writeMetrics(records: readonly MetricRecord[]): void {
    writeFileAtomic(
      this.path('metrics'),
      [HEADER, ...records].map((r) => JSON.stringify(r) + '\n').join(''),
    );
  }

  /** Keeps only records up to `step` (inclusive); a crash never leaves duplicated or torn lines. */
  truncateMetrics(step: number): number {
    const kept = this.readMetrics().filter((r) => r.step <= step);
    this.writeMetrics(kept);
    return kept.length;
  }

  /** Appends one record (one write); a new or empty file gets its header first. */
  appendMetric(record: MetricRecord): void {
    const path = this.path('metrics');
    if (!headed.has(path) || !existsSync(path)) {
      if (!this.parseMetrics().length) this.writeMetrics([]);
      headed.add(path);
    }
    appendFileSync(path, JSON.stringify(record) + '\n');
  }

  /**
   * metrics.jsonl's records after its `format` header. A file without one was written before
   * 2026-12-01, when step lines counted epochs from 0: refused, not guessed at.
   */
  private parseMetrics(): MetricRecord[] {
    const path = this.path('metrics');
    if (!existsSync(path)) return [];
    const records: MetricRecord[] = [];
    let headed = false;
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      let r: MetricRecord;
      try {
        r = JSON.parse(line) as MetricRecord;
      } catch {
        break; // a torn final line from a crash mid-append
      }
      if (!headed && r.type === 'format') headed = true;
      else if (!headed)
        throw new RunFolderError(
          `${path}: no format header: written before 2026-12-01 by a trainer whose step lines counted epochs from 0; this one reads format ${RUN_FORMAT}`,
        );
      else records.push(r);
    }
    return records;
  }

  /** What the gallery registers of this run (RunPublication), refusing symlinks throughout. */
  readPublication(): RunPublication {
    for (const path of [this.dir, this.path('samples'), this.path('metrics'), this.path('export')])
      refuseSymlink(path);
    if (!existsSync(this.path('config')))
      throw new RunFolderError(`${this.dir}: not a run folder (no config.json)`);
    const card = existsSync(this.path('card'))
      ? (readJsonFile(this.path('card')) as RunPublication['card'])
      : {};
    return {
      name: basename(this.dir),
      // What the gallery stores and serves never names a folder of this machine.
      config: withoutMachinePaths(this.readConfig<Record<string, unknown>>()),
      lines: withoutMachinePaths(this.readMetrics()),
      grids: this.sampleGrids().map(({ epoch, file }) => ({
        epoch,
        file,
        bytes: () => readOwnFile(this.path('samples', file)),
      })),
      card,
      ...(existsSync(this.path('export', MODEL_JSON))
        ? { generator: this.readGenerator(this.path('export')) }
        : {}),
    };
  }

  /**
   * The float32 generators kept at the end of `epochs` (`upload --epochs all|1,3,5`), with
   * `weights` (default: the EMA's where the run kept one); one clear error for an epoch or a
   * generator that was not kept.
   */
  readEpochGenerators(
    epochs: 'all' | number[],
    weights?: 'raw' | 'ema',
  ): { weights: 'raw' | 'ema'; generators: { epoch: number; files: GeneratorFiles }[] } {
    const chosen = weights ?? (this.readConfig<{ ema?: unknown }>().ema ? 'ema' : 'raw');
    refuseSymlink(this.path('epochs'));
    const kept = this.keptEpochs();
    const wanted = epochs === 'all' ? kept : epochs;
    const missing = wanted.filter((e) => !kept.includes(e));
    if (!wanted.length) throw new RunFolderError(`${this.dir}: no epochs kept in epochs/`);
    if (missing.length)
      throw new RunFolderError(
        `${this.dir}: epoch ${missing.join(', ')} not kept in epochs/ (kept: ${kept.join(', ') || 'none'})`,
      );
    const generators = wanted.map((epoch) => {
      const dir = this.epochDir(epoch, chosen === 'ema' ? 'generator-ema' : 'generator');
      if (!existsSync(join(dir, MODEL_JSON)))
        throw new RunFolderError(`${dir}: no ${chosen} generator kept for epoch ${epoch}`);
      return { epoch, files: this.readGenerator(dir) };
    });
    return { weights: chosen, generators };
  }

  private readGenerator(dir: string): GeneratorFiles {
    return {
      modelJson: withoutMachinePaths(
        readJsonFile(join(dir, MODEL_JSON)),
      ) as GeneratorFiles['modelJson'],
      weights: () => readOwnFile(join(dir, 'weights.bin')),
    };
  }
}

/** The run folders and real sets of this file system, for a gallery's seeding. */
export const folderReader: FolderReader = {
  publication: (dir) => new RunFolder(dir).readPublication(),
  realSet: readRealSet,
};
