/**
 * The training loop: orchestration only (data, checkpoints, logs, grids); the maths of one step is
 * trainStep in @ganstudio/models. A run folder is the whole record of a run:
 *   config.json, metrics.jsonl, samples/epoch-NNNN.png, checkpoints/, generator-uint8/.
 */
import { mkdirSync } from 'node:fs';
import { basename } from 'node:path';

import { at } from '@ganstudio/models/arrays';
import {
  createGan,
  disposeGan,
  imageSizeOf,
  samplingGenerator,
  type Gan,
} from '@ganstudio/models/gan';
import { RUN_FORMAT, RunFolder, type BestRecord, type RunConfig } from '@ganstudio/runs/folder';

import { selectBackend, type BackendChoice, type BackendInfo } from '../backend';
import { BatchSource, limitData } from '../data/batches';
import { sideOf, type PlanarImages } from '../data/cifar';
import { classesOf, datasetIdentity, loadTrainingSet, type TrainingSet } from '../data/dataset';
import { UserError } from '../errors';
import { type EvalResult } from '../measure/evaluate';
import {
  finalFidSamples,
  measureEpoch,
  startTracker,
  type QualityTracker,
} from '../measure/tracker';
import { loadLatestCheckpoint, saveCheckpoint, type CheckpointState } from './checkpoint';
import { saveModel } from './model-io';
import { formatDuration, Progress } from './progress';
import { validateRunConfig } from './recipes';
import { recipeFor, runLoop, startSitting } from './sitting';
import { endEpoch, stepOnce, type Position, type Prepared } from './step';

export interface TrainOptions {
  config: RunConfig;
  out: string;
  resume: boolean;
  backend: BackendChoice;
  /** Stop after this many steps in this sitting (smoke runs, crash tests); the run stays resumable. */
  maxSteps?: number;
  /** Tests only: make the losses of this (1-based) step non-finite once, as a diverging run would. */
  injectNanAtStep?: number;
  log?: (line: string) => void;
  progress?: Progress;
  /** Pre-loaded data (tests); otherwise read from config.data. */
  dataset?: PlanarImages;
}

export interface TrainResult {
  backend: BackendInfo;
  stepsRun: number;
  finalStep: number;
  totalSteps: number;
  finished: boolean;
  exportDir?: string;
  /** Bytes of the exported generator (model.json + weights.bin). */
  exportBytes?: number;
  /** The end-of-run FID (the larger protocol when both ran). */
  finalFid?: EvalResult;
  /** The best periodic FID of the run (generator-best/). */
  bestFid?: BestRecord;
}

/** The GAN and its position: the run's newest good checkpoint on --resume, else a fresh start. */
async function openGan(
  run: RunFolder,
  config: RunConfig,
  resume: boolean,
  log: (line: string) => void,
): Promise<{ gan: Gan; state: CheckpointState }> {
  const loaded = resume
    ? await loadLatestCheckpoint(run.dir, config.model, config.optimizer, config.ema ?? null)
    : undefined;
  if (loaded) {
    for (const s of loaded.skipped) log(`warning: skipped unreadable checkpoint ${s}`);
    run.truncateMetrics(loaded.state.step);
    log(`resumed from step ${loaded.state.step} (${loaded.dir})`);
    return { gan: loaded.gan, state: loaded.state };
  }
  if (resume) {
    run.truncateMetrics(0);
    log('no checkpoint yet: starting from step 0');
  }
  return {
    gan: createGan(config.model, config.optimizer, undefined, config.ema ?? null),
    state: { step: 0, epoch: 0, savedAt: new Date().toISOString(), trainSeconds: 0 },
  };
}

/** The finished run's sampling generator as uint8 in generator-uint8/: its size in bytes. */
async function exportGenerator(
  run: RunFolder,
  gan: Gan,
  step: number,
  log: (line: string) => void,
  classNames?: string[],
) {
  const dir = run.path('export');
  const started = performance.now();
  log(`exporting the uint8 generator to ${dir} …`);
  const files = await saveModel(samplingGenerator(gan), dir, 'uint8', {
    run: basename(run.dir), // its name: the file is shared, the folder it lies in is not
    step,
    quantization: 'uint8',
    weights: gan.ema ? `ema ${gan.ema.decay}` : 'raw',
    ...(classNames ? { classes: classNames } : {}),
  });
  log(`exported in ${formatDuration((performance.now() - started) / 1000)}`);
  return { dir, bytes: files.weights.byteLength + JSON.stringify(files.modelJson).length };
}

/**
 * A conditional run's classes into its config (names, and the model's class count): derived from
 * the data on a first sitting, checked against it on a resume (a changed folder is refused).
 */
function resolveClasses(config: RunConfig, set: TrainingSet | undefined, data: PlanarImages) {
  let names: string[];
  if (set) names = classesOf(set, config.data, config.batchSize);
  else {
    let top = 0;
    for (let i = 0; i < data.count; i++) top = Math.max(top, at(data.labels, i));
    names = config.classNames ?? Array.from({ length: top + 1 }, (_, i) => `class ${i}`);
  }
  if (config.classNames && config.classNames.join('\0') !== names.join('\0'))
    throw new UserError(
      `the run was trained on classes ${config.classNames.join(', ')}, the data now has ${names.join(', ')}`,
    );
  config.classNames = names;
  config.model = { ...config.model, classes: names.length };
}

/**
 * Build: the recipe (a resumed run's own, checked by recipeFor), the data (a wrong --data path is the one line
 * a user sees, before any backend starts), the backend, and config.json written with what trains.
 */
async function prepare(
  options: TrainOptions,
  config: RunConfig,
  { log, progress }: { log: (line: string) => void; progress: Progress },
): Promise<Prepared> {
  const run = new RunFolder(options.out);
  const side = imageSizeOf(config.model);
  const set = options.dataset
    ? undefined
    : await loadTrainingSet(config.data, {
        resolution: side,
        strict: config.strict ?? false,
        log,
        progress: (total) => progress.phase('preparing images', total),
      });
  const full = options.dataset ?? set?.data;
  if (!full) throw new Error('train: no data: neither options.dataset nor config.data');
  if (config.conditional) resolveClasses(config, set, full);
  if (sideOf(full) !== side)
    throw new UserError(
      `the images are ${sideOf(full)}×${sideOf(full)} but the model is built for ${side}×${side}`,
    );
  const backend = await selectBackend(options.backend);
  log(`backend: ${backend.reason}`);
  const source = new BatchSource(
    limitData(full, config.limit, config.batchSize),
    config.batchSize,
    config.model.seed,
  );
  mkdirSync(run.path('samples'), { recursive: true });
  run.writeConfig({
    ...config,
    version: RUN_FORMAT,
    backend: backend.resolved,
    ...(set && !config.dataset ? { dataset: datasetIdentity(set, config.data) } : {}),
  });
  return {
    config,
    run,
    set,
    source,
    totalSteps: source.plan.stepsPerEpoch * config.epochs,
    backend,
  };
}

/**
 * The finished run's measurement: the periodic protocol once more with the copy check (the
 * curve's last point stays comparable), then the headline protocol when it is larger.
 */
async function measureRun(
  tracker: QualityTracker,
  gan: Gan,
  {
    prepared,
    log,
    progress,
  }: {
    prepared: Prepared;
    log: (line: string) => void;
    progress: Progress;
  },
): Promise<EvalResult> {
  const { config, totalSteps } = prepared;
  const periodic = config.fid?.samples ?? 0;
  const measure = {
    run: prepared.run,
    at: { step: totalSteps, epoch: config.epochs },
    log,
    progress,
    classNames: config.classNames,
  };
  const curve = await measureEpoch(tracker, gan, {
    ...measure,
    samples: periodic,
    copyCheck: true,
  });
  const headline = finalFidSamples(config, totalSteps);
  return headline === periodic
    ? curve
    : measureEpoch(tracker, gan, { ...measure, samples: headline });
}

/**
 * A sitting of a run: build, restore, loop, measure, save. Stopped (a signal, --max-steps) it
 * leaves a checkpoint that `--resume` continues exactly; finished, it measures the run and
 * exports the uint8 generator.
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const { out } = options;
  const recipe = recipeFor(out, options.resume, validateRunConfig(options.config));
  const progress = options.progress ?? new Progress(process.stderr, recipe.batchSize);
  const prepared = await prepare(options, recipe, { log, progress });
  const { config, run, source, totalSteps, backend } = prepared;

  const position: Position = {
    ...(await openGan(run, config, options.resume, log)),
    retries: 0,
    nanInjected: false,
    last: undefined,
  };
  const tracker =
    config.fid && config.fid.every > 0
      ? await startTracker({
          run,
          data: config.data,
          set: prepared.set,
          resolution: imageSizeOf(config.model),
          fid: config.fid,
          limit: config.limit,
          measured: {
            weights: config.ema ? 'ema' : 'raw',
            conditional: Boolean(config.model.classes),
            trainImages: totalSteps * config.batchSize,
          },
          log,
          progress,
        })
      : undefined;

  const sitting = startSitting(position.state, totalSteps, options.maxSteps);
  const { startStep, endStep, signals, trainSeconds } = sitting;
  try {
    await runLoop({
      plan: source.plan,
      totalSteps,
      epochs: config.epochs,
      batchSize: config.batchSize,
      sitting,
      progress,
      logEvery: config.logEvery,
      checkpointEvery: config.checkpointEvery,
      step: (step) =>
        stepOnce(position, step, { prepared, log, injectNanAtStep: options.injectNanAtStep }),
      logged(done, epoch, imagesPerSec) {
        const m = position.last;
        if (!m) return; // a log line comes after a step, so there is always one
        run.appendMetric({
          type: 'step',
          epoch,
          step: done,
          d_loss: m.dLoss,
          g_loss: m.gLoss,
          d_x: m.dReal,
          d_g_z: m.dFake,
          images_per_sec: imagesPerSec,
          elapsed_s: trainSeconds(),
        });
      },
      epochEnd: (done, epoch) =>
        endEpoch(
          position,
          { done, epoch },
          {
            prepared,
            tracker,
            trainSeconds,
            log,
            progress,
          },
        ),
      async checkpoint(step) {
        position.state = {
          step,
          epoch: Math.floor(step / source.plan.stepsPerEpoch),
          savedAt: new Date().toISOString(),
          trainSeconds: trainSeconds(),
        };
        await saveCheckpoint(run.dir, position.gan, position.state);
      },
    });
    const finished = endStep === totalSteps && !signals.stopped;
    const finalFid =
      finished && tracker
        ? await measureRun(tracker, position.gan, { prepared, log, progress })
        : undefined;
    const exported = finished
      ? await exportGenerator(run, position.gan, totalSteps, log, config.classNames)
      : undefined;
    if (signals.stopped)
      log(`interrupted: checkpoint saved at step ${position.state.step}; continue with --resume`);
    return {
      backend,
      stepsRun: position.state.step - startStep,
      finalStep: position.state.step,
      totalSteps,
      finished,
      ...(exported ? { exportDir: exported.dir, exportBytes: exported.bytes } : {}),
      ...(finalFid ? { finalFid } : {}),
      ...(tracker && Number.isFinite(tracker.best) ? { bestFid: run.readBest() } : {}),
    };
  } finally {
    signals.release();
    disposeGan(position.gan);
    tracker?.network.dispose();
  }
}
