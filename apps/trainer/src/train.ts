/**
 * The training loop: orchestration only (data, checkpoints, logs, grids); the maths of one step is
 * trainStep in @ganstudio/models. A run folder is the whole record of a run:
 *   config.json, metrics.jsonl, samples/epoch-NNNN.png, checkpoints/, generator-uint8/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';

import { at } from '@ganstudio/models/arrays';
import { type FeatureNetwork, type FeatureRows, type FeatureStats } from '@ganstudio/models/eval';
import {
  createGan,
  disposeGan,
  imageSizeOf,
  samplingGenerator,
  stepSeed,
  trainStep,
  updateEma,
  validateDcganConfig,
  validateOptimizer,
  type Gan,
  type Resolution,
  type StepMetrics,
} from '@ganstudio/models/gan';
import {
  isScale,
  RUN_FORMAT,
  RunFolder,
  type BestRecord,
  type RunConfig,
} from '@ganstudio/runs/folder';
import { writeFileAtomic } from '@ganstudio/runs/fs-atomic';

import { onFastestBackend, selectBackend, type BackendChoice, type BackendInfo } from './backend';
import { BatchSource, limitData } from './batches';
import {
  loadLatestCheckpoint,
  saveCheckpoint,
  writeGanState,
  type CheckpointState,
} from './checkpoint';
import { loadCifar10, sideOf, type PlanarImages } from './cifar';
import {
  classesOf,
  datasetIdentity,
  isCifar10,
  loadTrainingSet,
  type TrainingSet,
} from './dataset';
import { UserError } from './errors';
import {
  evaluateGenerator,
  evaluateImages,
  fidelityTargets,
  imageBatches,
  loadFeatureNetwork,
  measurementPassport,
  noiseBatches,
  referenceCount,
  referenceRows,
  referenceStats,
  type EvalResult,
  type RowReferences,
} from './evaluate';
import { saveModel } from './model-io';
import { formatDuration, Progress } from './progress';
import { sampleGridPng } from './sampling';
import { recipeFor, runLoop, startSitting, type StepOutcome } from './sitting';

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

/** The CLI flag that sets each optimizer field, for error lines. */
const OPTIMIZER_FLAGS = { lr: '--lr', lrD: '--lr-d', beta1: '--beta1', beta2: 'beta2' } as const;

export function validateRunConfig(c: RunConfig): RunConfig {
  const int = (name: string, v: number, min: number) => {
    if (!Number.isInteger(v) || v < min)
      throw new UserError(`--${name} must be an integer ≥ ${min}, got ${v}`);
  };
  int('epochs', c.epochs, 1);
  int('batch-size', c.batchSize, 1);
  int('sample-every', c.sampleEvery, 1);
  int('checkpoint-every', c.checkpointEvery, 1);
  int('log-every', c.logEvery, 1);
  if (c.limit !== null) int('limit', c.limit, 1);
  try {
    validateDcganConfig(c.model);
  } catch (err) {
    throw new UserError((err as Error).message);
  }
  try {
    validateOptimizer(c.optimizer, (field) => OPTIMIZER_FLAGS[field]);
  } catch (err) {
    throw new UserError((err as Error).message);
  }
  if (c.ema != null && !(c.ema > 0 && c.ema < 1))
    throw new UserError(`--ema must be in (0, 1) or 0 for none, got ${c.ema}`);
  return c;
}

/** Images in one epoch of the full CIFAR-10 training set. */
const CIFAR_EPOCH_IMAGES = 50_000;
/** The headline FID's sample count for runs long enough to deserve it. */
export const FULL_FINAL_FID_SAMPLES = 10_000;

/**
 * The end-of-run FID's sample count when not given: the periodic count, unless the run sees at
 * least one full CIFAR-10 epoch (a 7-minute smoke run spent 10 more minutes on a
 * 10,000-sample FID), in which case the full 10,000.
 */
export function finalFidSamples(config: RunConfig, totalSteps: number): number {
  const fid = config.fid;
  if (!fid) return 0;
  if (fid.finalSamples !== null) return fid.finalSamples;
  const full = config.limit === null && totalSteps * config.batchSize >= CIFAR_EPOCH_IMAGES;
  return full ? Math.max(FULL_FINAL_FID_SAMPLES, fid.samples) : fid.samples;
}

/** Recoveries from NaN/Inf losses per sitting before the trainer gives up and says so. */
const MAX_NAN_RECOVERIES = 3;

interface FidTracker {
  network: FeatureNetwork;
  reference: { stats: FeatureStats; description: string };
  /** The first `samples` training images' feature rows: KID and precision/recall compare with them. */
  rows: RowReferences;
  /** The set the run trains on, for the copy check at the end of the run (CIFAR-10 only). */
  copies: (() => Promise<RowReferences>) | undefined;
  side: Resolution;
  /** The best so far among evaluations of `best_samples` samples (different sizes do not compare). */
  best: number;
  best_samples: number;
  /** The lowest KID so far, with its spread: what the best rule measures a candidate against. */
  lowest: { kid: number; kid_std: number; epoch: number } | undefined;
}

/**
 * Whether a new measurement takes generator-best/. FID has no spread: a lower draw is not a
 * better generator (the shipped run's raw FID went 3.08 → 3.62 → 2.79 → 3.76 over epochs 7–10).
 * With KID ± std the rule is: the best is the latest measurement whose KID interval (± 1 std)
 * reaches the lowest KID's interval. A lower but indistinguishable number never beats a later
 * one, and a clearly worse later epoch never replaces the best. Without KID, the lowest FID.
 */
export function takesBest(
  candidate: { fid: number; kid?: number; kid_std?: number },
  current: { best: number; lowest: { kid: number; kid_std: number } | undefined },
): { best: boolean; lowest: { kid: number; kid_std: number } | undefined } {
  if (candidate.kid === undefined || candidate.kid_std === undefined)
    return { best: candidate.fid < current.best, lowest: current.lowest };
  const mine = { kid: candidate.kid, kid_std: candidate.kid_std };
  const lowest = !current.lowest || mine.kid < current.lowest.kid ? mine : current.lowest;
  return { best: mine.kid - mine.kid_std <= lowest.kid + lowest.kid_std, lowest };
}

/**
 * The classifier FID, KID ± std and precision/recall of the sampling generator, appended to
 * metrics.jsonl with their passport (on the fastest backend: wasm when training on cpu); a new
 * best by takesBest is saved as generator-best/ (float32) with best.json, so the best epoch
 * survives checkpoint pruning. `copyCheck` adds the copy check against the images trained on.
 */
async function logFid(
  tracker: FidTracker,
  gan: Gan,
  {
    out,
    at,
    samples,
    log,
    progress,
    classNames,
    copyCheck = false,
  }: {
    out: string;
    at: { step: number; epoch: number };
    samples: number;
    log: (line: string) => void;
    progress: Progress;
    classNames?: string[] | undefined;
    copyCheck?: boolean;
  },
): Promise<EvalResult> {
  const run = new RunFolder(out);
  const started = performance.now();
  const generator = samplingGenerator(gan);
  const names = gan.config.classes ? classNames : undefined;
  const weights = gan.ema ? 'ema' : 'raw';
  const { value: r, backend } = await onFastestBackend(async () => {
    const rows = copyCheck && tracker.copies ? await tracker.copies() : tracker.rows;
    return evaluateGenerator(tracker.network, tracker.reference, generator, samples, {
      onBatch: progress.phase(`epoch ${at.epoch} FID (${samples} samples)`, samples),
      ...(names ? { classes: { names, targets: fidelityTargets(tracker.network, names) } } : {}),
      rows,
    });
  });
  const passport = measurementPassport(tracker.network, tracker.side, samples, r.reference, {
    generator: { conditional: Boolean(names), weights, quantization: 'float32' },
  });
  run.appendMetric({
    type: 'fid',
    step: at.step,
    epoch: at.epoch,
    fid: r.fid,
    is_mean: r.is_mean,
    is_std: r.is_std,
    samples,
    feature_network: r.feature_network,
    reference: r.reference,
    // Which weights were measured: with an EMA the curve is the EMA's, not the raw generator's.
    weights,
    ...(r.class_fidelity === undefined ? {} : { class_fidelity: r.class_fidelity }),
    ...(r.kid === undefined
      ? {}
      : { kid: r.kid, kid_std: r.kid_std, precision: r.precision, recall: r.recall }),
    ...(r.copies === undefined || r.copies === null ? {} : { copies: r.copies }),
    passport,
    backend,
    seconds: (performance.now() - started) / 1000,
  });
  const percent = (x: number | undefined) => `${(100 * (x ?? NaN)).toFixed(1)}%`;
  log(
    `epoch ${at.epoch}: FID (${tracker.network.label} features, ${samples} samples vs ${r.reference}) ${r.fid.toFixed(3)}, IS ${r.is_mean.toFixed(3)} ± ${r.is_std.toFixed(3)}` +
      (r.kid === undefined
        ? ''
        : `, KID ${r.kid.toFixed(5)} ± ${(r.kid_std ?? NaN).toFixed(5)}, precision ${percent(r.precision)}, recall ${percent(r.recall)}`) +
      (typeof r.copies === 'number' ? `, copies ${percent(r.copies)}` : '') +
      (r.class_fidelity === undefined ? '' : `, class fidelity ${percent(r.class_fidelity)}`),
  );
  if (samples === tracker.best_samples) {
    const rule = takesBest(r, tracker);
    tracker.lowest = rule.lowest && { ...rule.lowest, epoch: at.epoch };
    if (rule.best) {
      tracker.best = r.fid;
      await saveModel(generator, run.path('best'), 'float32', {
        step: at.step,
        epoch: at.epoch,
        fid: r.fid,
        feature_network: r.feature_network,
      });
      const { closest: _closest, per_class: _perClass, ...kept } = r;
      run.writeBest({
        ...kept,
        step: at.step,
        epoch: at.epoch,
        ...(tracker.lowest ? { lowest: tracker.lowest } : {}),
      });
    } else if (tracker.lowest) {
      // The lowest KID moves even when the best stays: keep it for a resumed run.
      const saved = run.readBest();
      if (saved) run.writeBest({ ...saved, lowest: tracker.lowest });
    }
  }
  return { ...r, passport };
}

/**
 * run/epochs/epoch-NNNN/: the whole training state at the epoch's end (writeGanState: G, D, EMA
 * in float32 and both Adam states, ~19 MB at the default widths) and state.json: every epoch
 * boundary can be evaluated, shipped, or carried to another machine exactly (`bundle --carry`)
 * long after its checkpoint was pruned.
 */
export async function saveEpochState(out: string, gan: Gan, at: CheckpointState): Promise<void> {
  const dir = new RunFolder(out).epochDir(at.epoch);
  await writeGanState(dir, gan);
  writeFileAtomic(join(dir, 'state.json'), JSON.stringify(at) + '\n');
}

async function startFidTracker({
  out,
  data,
  set,
  resolution,
  fid,
  limit,
  measured,
  log,
  progress,
}: {
  out: string;
  data: string;
  set: TrainingSet | undefined;
  resolution: Resolution;
  fid: NonNullable<RunConfig['fid']>;
  limit: number | null;
  /** What the periodic lines will measure (the scale line's passport), and the images trained on. */
  measured: { weights: string; conditional: boolean; trainImages: number };
  log: (line: string) => void;
  progress: Progress;
}): Promise<FidTracker | undefined> {
  if (!data || !existsSync(data)) {
    log('FID skipped: the reference set needs --data (CIFAR-10 or your images)');
    return undefined;
  }
  let network: FeatureNetwork;
  try {
    network = await loadFeatureNetwork('classifier', fid.classifier ?? undefined);
  } catch (err) {
    log(`FID skipped: ${(err as Error).message}`);
    return undefined;
  }
  // On the fastest backend like every feature pass: the pure-JS cpu one takes hours over 50,000.
  const { value: reference } = await onFastestBackend(() =>
    referenceStats(network, data, {
      resolution,
      ...(set ? { set } : {}),
      ...referenceCount(limit),
      log,
      progress: (total) => progress.phase('reference statistics', total),
    }),
  );
  const rowsOf = (split: 'train' | 'test', count: number | undefined) =>
    onFastestBackend(() =>
      referenceRows(network, data, {
        split,
        resolution,
        ...(count ? { count } : {}),
        ...(set && split === 'train' ? { set } : {}),
        log,
        progress: (total) => progress.phase(`${split} image features`, total),
      }),
    ).then((r) => r.value);
  const train = await rowsOf('train', fid.samples);
  // The copy check needs real images the run never saw, to know how near is too near: CIFAR-10's
  // test split. Against the images the run trained on (its --limit), so a smoke run's check is
  // as small as its data; a full run's 50,000 rows are computed once per machine and cached.
  const copies =
    set?.kind === 'images'
      ? undefined
      : async (): Promise<RowReferences> => ({
          train,
          trainedOn: await rowsOf('train', limit ?? undefined),
          heldOut: await rowsOf('test', Math.min(fid.samples, 10_000)),
        });
  const run = new RunFolder(out);
  // The scale costs 2 × samples images through the network: a run that trains on fewer images
  // than that (a smoke run) would spend longer on it than on training, so it goes without.
  if (
    isCifar10(data) &&
    2 * fid.samples <= measured.trainImages &&
    !run.readMetrics().some(isScale)
  )
    await measureScale(run, {
      network,
      reference,
      data,
      side: resolution,
      samples: fid.samples,
      train,
      measured,
      log,
    });
  // A resumed run keeps its best only if it beats the one already saved.
  const saved = run.readBest();
  const same = saved && saved.feature_network === network.id && saved.samples === fid.samples;
  return {
    network,
    reference,
    rows: { train },
    copies,
    side: resolution,
    best: same ? saved.fid : Infinity,
    best_samples: fid.samples,
    lowest: same ? saved.lowest : undefined,
  };
}

/**
 * The scale a run's numbers sit on, logged once as it starts: real test images (the floor: what a
 * perfect generator would score at this sample count) and uniform noise (the ceiling), on the
 * passport of the periodic measurement, so a reader of the curve knows where its numbers sit.
 */
async function measureScale(
  run: RunFolder,
  {
    network,
    reference,
    data,
    side,
    samples,
    train,
    measured,
    log,
  }: {
    network: FeatureNetwork;
    reference: { stats: FeatureStats; description: string };
    data: string;
    side: Resolution;
    samples: number;
    train: FeatureRows;
    measured: { weights: string; conditional: boolean };
    log: (line: string) => void;
  },
): Promise<void> {
  const test = loadCifar10(data, 'test');
  if (test.count < samples || side !== 32) return; // the floor would repeat images, or be resized
  const started = performance.now();
  const { value } = await onFastestBackend(async () => {
    const points = [];
    for (const batches of [imageBatches(test), noiseBatches(0)]) {
      const r = await evaluateImages(network, reference, batches, samples, { rows: { train } });
      points.push({
        fid: r.fid,
        kid: r.kid ?? NaN,
        kid_std: r.kid_std ?? NaN,
        precision: r.precision ?? NaN,
        recall: r.recall ?? NaN,
      });
    }
    return points;
  });
  const [floor, ceiling] = [at(value, 0), at(value, 1)];
  run.appendMetric({
    type: 'scale',
    step: 0,
    epoch: 0,
    floor,
    ceiling,
    passport: measurementPassport(network, side, samples, reference.description, {
      generator: {
        weights: measured.weights,
        conditional: measured.conditional,
        quantization: 'float32',
      },
    }),
  });
  log(
    `scale (${samples} samples): real test images FID ${floor.fid.toFixed(3)}, KID ${floor.kid.toFixed(5)}; noise FID ${ceiling.fid.toFixed(3)}, KID ${ceiling.kid.toFixed(5)} (${((performance.now() - started) / 1000).toFixed(1)} s)`,
  );
}

/** The GAN and its position: the run's newest good checkpoint on --resume, else a fresh start. */
async function openGan(
  out: string,
  config: RunConfig,
  resume: boolean,
  log: (line: string) => void,
): Promise<{ gan: Gan; state: CheckpointState }> {
  const run = new RunFolder(out);
  const loaded = resume
    ? await loadLatestCheckpoint(out, config.model, config.optimizer, config.ema ?? null)
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
  out: string,
  gan: Gan,
  step: number,
  log: (line: string) => void,
  classNames?: string[],
) {
  const dir = new RunFolder(out).path('export');
  const started = performance.now();
  log(`exporting the uint8 generator to ${dir} …`);
  const files = await saveModel(samplingGenerator(gan), dir, 'uint8', {
    run: basename(out), // its name: the file is shared, the folder it lies in is not
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

export async function train(options: TrainOptions): Promise<TrainResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const out = options.out;
  const run = new RunFolder(out);
  const config = recipeFor(out, options.resume, validateRunConfig(options.config));
  const progress = options.progress ?? new Progress(process.stderr, config.batchSize);
  // The data first: a wrong --data path is the one line a user sees, before any backend starts.
  const set = options.dataset
    ? undefined
    : await loadTrainingSet(config.data, {
        resolution: imageSizeOf(config.model),
        strict: config.strict ?? false,
        log,
        progress: (total) => progress.phase('preparing images', total),
      });
  const full = options.dataset ?? set?.data;
  if (!full) throw new Error('train: no data: neither options.dataset nor config.data');
  if (config.conditional) resolveClasses(config, set, full);
  if (sideOf(full) !== imageSizeOf(config.model))
    throw new UserError(
      `the images are ${sideOf(full)}×${sideOf(full)} but the model is built for ${imageSizeOf(config.model)}×${imageSizeOf(config.model)}`,
    );
  const backend = await selectBackend(options.backend);
  log(`backend: ${backend.reason}`);

  const data = limitData(full, config.limit, config.batchSize);
  const source = new BatchSource(data, config.batchSize, config.model.seed);
  const { stepsPerEpoch } = source.plan;
  const totalSteps = stepsPerEpoch * config.epochs;

  mkdirSync(run.path('samples'), { recursive: true });
  run.writeConfig({
    ...config,
    version: RUN_FORMAT,
    backend: backend.resolved,
    ...(set && !config.dataset ? { dataset: datasetIdentity(set, config.data) } : {}),
  });

  let { gan, state } = await openGan(out, config, options.resume, log);

  const fidConfig = config.fid ?? { every: 0, samples: 0, finalSamples: 0, classifier: null };
  let fid: FidTracker | undefined;
  if (fidConfig.every > 0)
    fid = await startFidTracker({
      out,
      data: config.data,
      set,
      resolution: imageSizeOf(config.model),
      fid: fidConfig,
      limit: config.limit,
      measured: {
        weights: config.ema ? 'ema' : 'raw',
        conditional: Boolean(config.model.classes),
        trainImages: totalSteps * config.batchSize,
      },
      log,
      progress,
    });
  const sitting = startSitting(state, totalSteps, options.maxSteps);
  const { startStep, endStep, signals, trainSeconds } = sitting;
  const checkpoint = async (step: number) => {
    state = {
      step,
      epoch: Math.floor(step / stepsPerEpoch),
      savedAt: new Date().toISOString(),
      trainSeconds: trainSeconds(),
    };
    await saveCheckpoint(out, gan, state);
  };
  let nanInjected = false;
  let retries = 0;
  /** One DCGAN step; a non-finite loss reloads the last good checkpoint (rewinding the loop). */
  const trainOne = async (step: number): Promise<StepOutcome> => {
    const real = source.batch(step);
    const labels = config.conditional ? source.labels(step) : undefined;
    let m;
    try {
      // After a recovery the noise stream shifts, so the retried steps are not a replay of the divergence.
      const seed = (stepSeed(config.model.seed, step) + retries * 0x9e3779b1) >>> 0;
      m = await trainStep(gan, real, seed, labels);
    } finally {
      real.dispose();
      labels?.dispose();
    }
    const done = step + 1;
    if (options.injectNanAtStep === done && !nanInjected) {
      nanInjected = true;
      m = { ...m, dLoss: Number.NaN };
    }
    if (![m.dLoss, m.gLoss].every(Number.isFinite)) {
      // A NaN/Inf step has already written poisoned weights: go back to the last good checkpoint.
      retries++;
      if (retries > MAX_NAN_RECOVERIES) {
        throw new UserError(
          `non-finite loss at step ${done} (d_loss ${m.dLoss}, g_loss ${m.gLoss}) again after ${MAX_NAN_RECOVERIES} recoveries; the last good checkpoint is kept: resume with --resume and a lower --lr`,
        );
      }
      disposeGan(gan);
      const good = await loadLatestCheckpoint(
        out,
        config.model,
        config.optimizer,
        config.ema ?? null,
      );
      gan = good?.gan ?? createGan(config.model, config.optimizer, undefined, config.ema ?? null);
      state = good?.state ?? {
        step: 0,
        epoch: 0,
        savedAt: new Date().toISOString(),
        trainSeconds: state.trainSeconds,
      };
      run.truncateMetrics(state.step);
      log(
        `non-finite loss at step ${done} (d_loss ${m.dLoss}, g_loss ${m.gLoss}): reloaded the last good checkpoint (step ${state.step}) and continue with fresh noise (recovery ${retries}/${MAX_NAN_RECOVERIES})`,
      );
      return { rewindTo: state.step };
    }
    updateEma(gan, done);
    lastStep = m;
    return { figures: { d_loss: m.dLoss, g_loss: m.gLoss } };
  };
  let lastStep: StepMetrics | undefined;

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
      step: trainOne,
      logged(done, epoch, imagesPerSec) {
        const m = lastStep;
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
      async epochEnd(done, epoch) {
        if (epoch % config.sampleEvery === 0 || done === totalSteps)
          writeFileAtomic(
            run.epochGrid(epoch),
            await sampleGridPng(samplingGenerator(gan), config.sampleSeed, config.sampleCount),
          );
        // Checkpoints are pruned; per-epoch generators stay so any epoch can be evaluated or shipped later.
        await saveEpochState(out, gan, {
          step: done,
          epoch,
          savedAt: new Date().toISOString(),
          trainSeconds: trainSeconds(),
        });
        if (fid && epoch % fidConfig.every === 0 && done !== totalSteps)
          await logFid(fid, gan, {
            out,
            at: { step: done, epoch },
            samples: fidConfig.samples,
            log,
            progress,
            classNames: config.classNames,
          });
      },
      checkpoint,
    });
    const finished = endStep === totalSteps && !signals.stopped;
    let exportDir: string | undefined;
    let exportBytes: number | undefined;
    let finalFid: EvalResult | undefined;
    if (finished && fid) {
      // The cheap protocol keeps the curve comparable; the full one is the run's headline number.
      const at = { step: totalSteps, epoch: config.epochs };
      const measure = { out, at, log, progress, classNames: config.classNames };
      // The copy check goes on the curve's last point.
      finalFid = await logFid(fid, gan, {
        ...measure,
        samples: fidConfig.samples,
        copyCheck: true,
      });
      const finalSamples = finalFidSamples(config, totalSteps);
      if (finalSamples !== fidConfig.samples)
        finalFid = await logFid(fid, gan, { ...measure, samples: finalSamples });
    }
    if (finished) {
      ({ dir: exportDir, bytes: exportBytes } = await exportGenerator(
        out,
        gan,
        totalSteps,
        log,
        config.classNames,
      ));
    }
    if (signals.stopped)
      log(`interrupted: checkpoint saved at step ${state.step}; continue with --resume`);
    return {
      backend,
      stepsRun: state.step - startStep,
      finalStep: state.step,
      totalSteps,
      finished,
      ...(exportDir ? { exportDir } : {}),
      ...(exportBytes ? { exportBytes } : {}),
      ...(finalFid ? { finalFid } : {}),
      ...(fid && Number.isFinite(fid.best) ? { bestFid: run.readBest() } : {}),
    };
  } finally {
    signals.release();
    disposeGan(gan);
    fid?.network.dispose();
  }
}
