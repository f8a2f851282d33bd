/**
 * A sitting's steps and epoch ends: one DCGAN update with its NaN recovery, and what an epoch's end
 * keeps (grid, whole state, periodic measurement). train.ts strings them into a run.
 */
import { join } from 'node:path';

import {
  createGan,
  disposeGan,
  samplingGenerator,
  stepSeed,
  trainStep,
  updateEma,
  type Gan,
  type StepMetrics,
} from '@ganstudio/models/gan';
import { type RunConfig, type RunFolder } from '@ganstudio/runs/folder';
import { writeFileAtomic } from '@ganstudio/runs/fs-atomic';

import { type BackendInfo } from '../backend';
import type { BatchSource } from '../data/batches';
import { type TrainingSet } from '../data/dataset';
import { UserError } from '../errors';
import { measureEpoch, type QualityTracker } from '../measure/tracker';
import { loadLatestCheckpoint, writeGanState, type CheckpointState } from './checkpoint';
import type { Progress } from './progress';
import { sampleGridPng } from './sampling';
import { type StepOutcome } from './sitting';

/** What a sitting trains: the checked recipe, its data as seeded batches, and the backend. */
export interface Prepared {
  config: RunConfig;
  run: RunFolder;
  set: TrainingSet | undefined;
  source: BatchSource;
  totalSteps: number;
  backend: BackendInfo;
}

/** Recoveries from NaN/Inf losses per sitting before the trainer gives up and says so. */
const MAX_NAN_RECOVERIES = 3;

/**
 * run/epochs/epoch-NNNN/: the whole training state at the epoch's end (writeGanState: G, D, EMA
 * in float32 and both Adam states, ~19 MB at the default widths) and state.json: every epoch
 * boundary can be evaluated, shipped, or carried to another machine exactly (`bundle --carry`)
 * long after its checkpoint was pruned.
 */
export async function saveEpochState(run: RunFolder, gan: Gan, at: CheckpointState): Promise<void> {
  const dir = run.epochDir(at.epoch);
  await writeGanState(dir, gan);
  writeFileAtomic(join(dir, 'state.json'), JSON.stringify(at) + '\n');
}

/**
 * Where a sitting is: the GAN (replaced when a non-finite loss reloads a checkpoint), its last
 * saved state, the recoveries so far, and the last step's figures for the next log line.
 */
export interface Position {
  gan: Gan;
  state: CheckpointState;
  retries: number;
  nanInjected: boolean;
  last: StepMetrics | undefined;
}

/**
 * One DCGAN step (trainStep: Radford et al. 2015's alternating D and G updates on a batch of
 * [batch, side, side, 3] images in [-1, 1]), then the EMA. A non-finite loss has already written
 * poisoned weights: the last good checkpoint is reloaded and the loop rewinds to it.
 */
export async function stepOnce(
  position: Position,
  step: number,
  {
    prepared,
    log,
    injectNanAtStep,
  }: {
    prepared: Prepared;
    log: (line: string) => void;
    injectNanAtStep: number | undefined;
  },
): Promise<StepOutcome> {
  const { config, source, run } = prepared;
  const real = source.batch(step);
  const labels = config.conditional ? source.labels(step) : undefined;
  let m;
  try {
    // After a recovery the noise stream shifts, so the retried steps are not a replay of the divergence.
    const seed = (stepSeed(config.model.seed, step) + position.retries * 0x9e3779b1) >>> 0;
    m = await trainStep(position.gan, real, seed, labels);
  } finally {
    real.dispose();
    labels?.dispose();
  }
  const done = step + 1;
  if (injectNanAtStep === done && !position.nanInjected) {
    position.nanInjected = true;
    m = { ...m, dLoss: Number.NaN };
  }
  if (![m.dLoss, m.gLoss].every(Number.isFinite)) {
    position.retries++;
    if (position.retries > MAX_NAN_RECOVERIES) {
      throw new UserError(
        `non-finite loss at step ${done} (d_loss ${m.dLoss}, g_loss ${m.gLoss}) again after ${MAX_NAN_RECOVERIES} recoveries; the last good checkpoint is kept: resume with --resume and a lower --lr`,
      );
    }
    disposeGan(position.gan);
    const good = await loadLatestCheckpoint(
      run.dir,
      config.model,
      config.optimizer,
      config.ema ?? null,
    );
    position.gan =
      good?.gan ?? createGan(config.model, config.optimizer, undefined, config.ema ?? null);
    position.state = good?.state ?? {
      step: 0,
      epoch: 0,
      savedAt: new Date().toISOString(),
      trainSeconds: position.state.trainSeconds,
    };
    run.truncateMetrics(position.state.step);
    log(
      `non-finite loss at step ${done} (d_loss ${m.dLoss}, g_loss ${m.gLoss}): reloaded the last good checkpoint (step ${position.state.step}) and continue with fresh noise (recovery ${position.retries}/${MAX_NAN_RECOVERIES})`,
    );
    return { rewindTo: position.state.step };
  }
  updateEma(position.gan, done);
  position.last = m;
  return { figures: { d_loss: m.dLoss, g_loss: m.gLoss } };
}

/**
 * The end of an epoch: its fixed-seed grid (every --sample-every epochs and at the end), its whole
 * state in epochs/ (checkpoints are pruned; these stay, so any epoch can be evaluated or shipped
 * later), and the periodic measurement (not on the last epoch: train.ts's measureRun does that one).
 */
export async function endEpoch(
  position: Position,
  { done, epoch }: { done: number; epoch: number },
  {
    prepared,
    tracker,
    trainSeconds,
    log,
    progress,
  }: {
    prepared: Prepared;
    tracker: QualityTracker | undefined;
    trainSeconds: () => number;
    log: (line: string) => void;
    progress: Progress;
  },
): Promise<void> {
  const { config, run, totalSteps } = prepared;
  if (epoch % config.sampleEvery === 0 || done === totalSteps)
    writeFileAtomic(
      run.epochGrid(epoch),
      await sampleGridPng(samplingGenerator(position.gan), config.sampleSeed, config.sampleCount),
    );
  await saveEpochState(run, position.gan, {
    step: done,
    epoch,
    savedAt: new Date().toISOString(),
    trainSeconds: trainSeconds(),
  });
  if (tracker && epoch % (config.fid?.every ?? 0) === 0 && done !== totalSteps)
    await measureEpoch(tracker, position.gan, {
      run,
      at: { step: done, epoch },
      samples: config.fid?.samples ?? 0,
      log,
      progress,
      classNames: config.classNames,
    });
}
