/**
 * What the GAN trainer and the classifier trainer share about a run folder and one sitting of
 * training: resuming a recipe, the sitting's last step, and stopping cleanly on Ctrl-C/SIGTERM.
 */
import { existsSync, readdirSync } from 'node:fs';

import { RunFolder, RunFolderError } from '@ganstudio/runs/folder';

import type { BatchPlan } from '../data/batches';
import { UserError } from '../errors';
import type { Progress } from './progress';

/** A run folder's config.json; `context` starts the error line (e.g. --resume, bundle). */
export function readRunConfig<T>(dir: string, context: string): T {
  try {
    return new RunFolder(dir).readConfig<T>();
  } catch (err) {
    if (err instanceof RunFolderError) throw new UserError(`${context}: ${err.message}`);
    throw err;
  }
}

/**
 * The recipe to train with: on --resume the saved one (only the length may grow; a new --data
 * path may replace a moved file), otherwise `config`, refusing to write into a folder that
 * already holds a run.
 */
export function recipeFor<T extends { epochs: number; data: string }>(
  out: string,
  resume: boolean,
  config: T,
): T {
  if (resume) {
    const saved = readRunConfig<T>(out, '--resume');
    return {
      ...saved,
      epochs: Math.max(saved.epochs, config.epochs),
      data: config.data || saved.data,
    };
  }
  if (existsSync(out) && readdirSync(out).length > 0) {
    throw new UserError(
      `${out} already holds a run; pass --resume to continue it or choose another --out`,
    );
  }
  return config;
}

/**
 * A sitting: one process's stretch of a run. A run is trained in one or more sittings (a first
 * `train`, then each `--resume` or `--carry-from`); each starts at the step its checkpoint holds
 * and stops at the run's end, after --max-steps, or on a signal, checkpointing either way.
 */
export interface Sitting {
  /** The step the sitting starts after (0 for a new run). */
  startStep: number;
  /** The step it stops at: the run's last, or startStep + --max-steps. */
  endStep: number;
  /** SIGINT/SIGTERM as a flag the loop polls between steps. */
  signals: ReturnType<typeof interruptible>;
  /** The run's training clock: seconds across all its sittings so far. */
  trainSeconds: () => number;
}

export function startSitting(
  state: { step: number; trainSeconds: number },
  totalSteps: number,
  maxSteps?: number,
): Sitting {
  const startStep = state.step;
  const started = performance.now();
  const baseSeconds = state.trainSeconds;
  return {
    startStep,
    endStep: Math.min(totalSteps, maxSteps === undefined ? totalSteps : startStep + maxSteps),
    signals: interruptible(),
    trainSeconds: () => baseSeconds + (performance.now() - started) / 1000,
  };
}

/**
 * Turns SIGINT/SIGTERM into a flag the training loop polls (it checkpoints and exits cleanly).
 * Steps are synchronous, so `yield()` between steps gives the signal handlers their turn.
 */
export function interruptible() {
  let stopped = false;
  const onSignal = () => {
    stopped = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    get stopped() {
      return stopped;
    },
    yield: () => new Promise<void>((resolve) => setImmediate(resolve)),
    release() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** What one step of a training loop reports: figures for the log and the progress bar. */
export type StepOutcome =
  | { figures: Record<string, number> }
  /** The step went wrong and a checkpoint was reloaded: continue from step `rewindTo`. */
  | { rewindTo: number };

export interface LoopOptions {
  plan: BatchPlan;
  totalSteps: number;
  epochs: number;
  batchSize: number;
  sitting: ReturnType<typeof startSitting>;
  progress: Progress;
  /** A log point every N steps and at every epoch end (progress also at the sitting's last step). */
  logEvery: number;
  /** Also checkpoint every N steps inside an epoch (epoch ends always checkpoint). */
  checkpointEvery?: number;
  /** Runs global step `step` (0-based) of epoch `epoch` (0-based), batch at `offset`. */
  step(step: number, epoch: number, offset: number): Promise<StepOutcome> | StepOutcome;
  /** A log point: `epoch` 1-based, images/s over the steps since the last one. */
  logged?(done: number, epoch: number, imagesPerSec: number, figures: Record<string, number>): void;
  /** After the last step of epoch `epoch` (1-based), before its checkpoint. */
  epochEnd?(done: number, epoch: number): Promise<void>;
  checkpoint(done: number): Promise<void>;
}

/**
 * The loop both trainers run: steps until the sitting's end or a signal, images/s windows and
 * progress at log points, the epoch-end hook, checkpoints at epoch ends (and every N steps), and
 * a last checkpoint of a sitting stopped between them. Returns the last completed step.
 */
export async function runLoop(o: LoopOptions): Promise<number> {
  const { plan, sitting, progress } = o;
  const { signals } = sitting;
  let windowStart = performance.now();
  let windowSteps = 0;
  let completed = sitting.startStep;
  let saved = sitting.startStep;
  for (let step = sitting.startStep; step < sitting.endStep && !signals.stopped; step++) {
    if (step % 4 === 0) await signals.yield();
    if (signals.stopped) break;
    const { epoch, offset } = plan.locate(step);
    const outcome = await o.step(step, epoch, offset);
    if ('rewindTo' in outcome) {
      completed = saved = outcome.rewindTo;
      step = outcome.rewindTo - 1; // the loop's step++ resumes there
      windowStart = performance.now();
      windowSteps = 0;
      continue;
    }
    windowSteps++;
    const done = step + 1;
    completed = done;
    const epochEnd = done % plan.stepsPerEpoch === 0;
    // Log points depend on the step alone, never on where a sitting stopped, so a run trained in
    // several sittings writes the very lines of one that never stopped.
    const logPoint = done % o.logEvery === 0 || epochEnd;
    if (logPoint || done === sitting.endStep) {
      const now = performance.now();
      const imagesPerSec = (windowSteps * o.batchSize) / ((now - windowStart) / 1000);
      windowStart = now;
      windowSteps = 0;
      if (logPoint) o.logged?.(done, epoch + 1, imagesPerSec, outcome.figures);
      progress.update({
        step: done,
        totalSteps: o.totalSteps,
        epoch,
        epochs: o.epochs,
        imagesPerSec,
        figures: outcome.figures,
      });
    }
    if (epochEnd) await o.epochEnd?.(done, epoch + 1);
    if (epochEnd || done % (o.checkpointEvery ?? Infinity) === 0) {
      await o.checkpoint(done);
      saved = done;
    }
  }
  if (completed > saved) await o.checkpoint(completed);
  progress.done();
  return completed;
}
