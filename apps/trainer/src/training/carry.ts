/**
 * A run's carried state: what a run needs to continue on another machine exactly as if it had
 * never stopped, committed beside the bundled run. Format 2 is a copy of the run's training state
 * at an epoch's end (writeGanState: G, D and the EMA in float32 with batch-norm statistics, both
 * Adam states) and the step, epoch and training clock; ~19 MB at the default widths.
 *
 *   <bundle>/state/state.json, generator/, discriminator/, generator-ema/, {g,d}-optimizer.*
 *
 * Format 1 (bundles before 2026-12-06) kept the nets in float16 without Adam's moments; such a
 * state still loads, its moments restart, and `train --carry-from` records that as a `seam` line
 * in metrics.jsonl so curves can show where it happened.
 *
 * `--carry-from <bundle>` turns the state back into an ordinary checkpoint in a new run folder and
 * resumes that, so the rest is the tested `--resume` path: the same data order and noise per step,
 * metrics cut at the state's step, grids and measurement lines continuing.
 */
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { basename, join } from 'node:path';

import {
  disposeGan,
  type DcganConfig,
  type Gan,
  type OptimizerConfig,
} from '@ganstudio/models/gan';
import { RunFolder, type RunConfig, type SeamRecord } from '@ganstudio/runs/folder';
import { fsyncDir, writeFileAtomic } from '@ganstudio/runs/fs-atomic';

import { UserError } from '../errors';
import {
  hasOptimizerState,
  readGanState,
  saveCheckpoint,
  type CheckpointState,
} from './checkpoint';
import { readRunConfig, recipeFor } from './sitting';

export const STATE_DIR = 'state';
const FORMAT = 'ganstudio-carried-state';
const VERSION = 2;

export interface CarriedState extends CheckpointState {
  format: typeof FORMAT;
  /** 2: the whole training state; 1: float16 nets, Adam restarted on resume. */
  version: 1 | 2;
}

/**
 * Writes `<out>/state/` as a copy of the state folder `source` (a checkpoint or an epoch folder
 * with optimizer state), replacing any earlier state as a whole (temp folder, then rename): a
 * bundle holds one state, the newest. Returns its size in bytes.
 */
export function writeCarriedState(
  out: string,
  source: string,
  at: CheckpointState,
): { dir: string; bytes: number } {
  if (!hasOptimizerState(source))
    throw new UserError(`${source}: no optimizer state to carry (written before 2026-12-06)`);
  const final = join(out, STATE_DIR);
  const tmp = join(out, `.${STATE_DIR}-tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  cpSync(source, tmp, { recursive: true });
  const state: CarriedState = { ...at, format: FORMAT, version: VERSION };
  writeFileAtomic(join(tmp, 'state.json'), JSON.stringify(state, null, 2) + '\n');
  fsyncDir(tmp);
  rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
  fsyncDir(out);
  return { dir: final, bytes: folderBytes(final) };
}

function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? folderBytes(path) : statSync(path).size;
  }
  return total;
}

/** The carried state of a bundle, loaded and checked against the recipe it says it belongs to. */
export async function loadCarriedState(
  dir: string,
  model: DcganConfig,
  optimizer: OptimizerConfig,
  emaDecay: number | null,
): Promise<{ gan: Gan; state: CarriedState }> {
  const stateDir = join(dir, STATE_DIR);
  const path = join(stateDir, 'state.json');
  if (!existsSync(path))
    throw new UserError(
      `${dir}: no carried state (${STATE_DIR}/state.json); write one with \`ganstudio bundle … --carry\``,
    );
  let state: CarriedState;
  try {
    state = JSON.parse(readFileSync(path, 'utf8')) as CarriedState;
  } catch {
    throw new UserError(`${path}: not valid JSON`);
  }
  if (
    state.format !== FORMAT ||
    !(state.version === 1 || state.version === VERSION) ||
    !Number.isInteger(state.step) ||
    state.step < 0
  )
    throw new UserError(
      `${path}: not a carried state this trainer reads (format ${String(state.format)}, version ${String(state.version)})`,
    );
  const gan = await readGanState(stateDir, model, optimizer, emaDecay, {
    optimizers: state.version === VERSION,
  });
  return { gan, state };
}

export interface ResumeFromOptions {
  /** A bundle (or any run folder) with config.json and state/. */
  from: string;
  out: string;
  /** Train to at least this many epochs (the bundle's config says how many it had). */
  epochs?: number;
  /** CIFAR-10 on this machine (the bundle's config names the path of the machine it came from). */
  data?: string;
  log?: (line: string) => void;
}

/**
 * Makes `out` a run folder that continues the carried run: its config, its metrics up to the
 * state's step plus a `seam` line, its grids up to the state's epoch, and a checkpoint at that
 * step with fresh optimizers. Returns the recipe; the caller resumes with `--resume` semantics.
 */
export async function materializeCarriedRun(o: ResumeFromOptions): Promise<RunConfig> {
  const target = new RunFolder(o.out);
  const source = new RunFolder(o.from);
  const log = o.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const saved = readRunConfig<RunConfig>(o.from, '--carry-from');
  const config: RunConfig = {
    ...saved,
    epochs: Math.max(saved.epochs, o.epochs ?? 0),
    data: o.data ?? saved.data,
  };
  recipeFor(o.out, false, config); // refuses an out folder that already holds a run
  const { gan, state } = await loadCarriedState(
    o.from,
    config.model,
    config.optimizer,
    config.ema ?? null,
  );
  try {
    mkdirSync(target.path('samples'), { recursive: true });
    target.writeConfig(config);
    const metrics = source.readMetrics().filter((r) => r.step <= state.step);
    target.writeMetrics(metrics);
    const exact = state.version === VERSION;
    // An exact state continues the very run, so its lines go on as if it had never moved.
    if (!exact) {
      const seam: SeamRecord = {
        type: 'seam',
        step: state.step,
        epoch: state.epoch,
        from: basename(o.from),
        optimizer: 'restarted',
        note: 'continued from a carried state: G, D and EMA weights kept (float16), Adam moments restarted',
      };
      target.appendMetric(seam);
    }
    for (const { epoch, file } of source.sampleGrids())
      if (epoch <= state.epoch)
        copyFileSync(source.path('samples', file), target.path('samples', file));
    const { format: _f, version: _v, ...checkpointState } = state;
    await saveCheckpoint(o.out, gan, checkpointState);
    log(
      `continuing ${o.from} at step ${state.step} (epoch ${state.epoch}) in ${o.out}: ` +
        (exact
          ? 'its whole training state, Adam moments included'
          : 'weights from its carried state (format 1), Adam moments restarted'),
    );
  } finally {
    disposeGan(gan);
  }
  return config;
}
