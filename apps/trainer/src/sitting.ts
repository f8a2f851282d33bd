/**
 * What the GAN trainer and the classifier trainer share about a run folder and one sitting of
 * training: resuming a recipe, the sitting's last step, and stopping cleanly on Ctrl-C/SIGTERM.
 */
import { existsSync, readdirSync } from 'node:fs';
import { readRunConfig as readFolderConfig, RunFolderError } from '@ganstudio/runs/folder';
import { UserError } from './errors';

/** A run folder's config.json; `context` starts the error line (e.g. --resume, bundle). */
export function readRunConfig<T>(dir: string, context: string): T {
  try {
    return readFolderConfig<T>(dir);
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
 * One sitting of a run: where it starts and stops (the run's end, or --max-steps after the start),
 * clean stopping on signals, and the run's training clock (seconds across all sittings).
 */
export function startSitting(
  state: { step: number; trainSeconds: number },
  totalSteps: number,
  maxSteps?: number,
) {
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
