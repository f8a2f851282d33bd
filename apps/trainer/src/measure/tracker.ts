/**
 * A run's measurement while it trains (Heusel et al. 2017 FID, Bińkowski et al. 2018 KID,
 * Kynkäänniemi et al. 2019 precision/recall, and the copy check): the tracker opened once per
 * sitting (feature network, reference statistics and rows, the run's scale), one measurement per
 * `--fid-every` epochs appended to metrics.jsonl with its passport, and generator-best/ kept by
 * takesBest.
 */
import { existsSync } from 'node:fs';

import { at } from '@ganstudio/models/arrays';
import { type FeatureNetwork, type FeatureRows, type FeatureStats } from '@ganstudio/models/eval';
import { samplingGenerator, type Gan, type Resolution } from '@ganstudio/models/gan';
import { measurementOf, passportOf } from '@ganstudio/models/measurement';
import { isScale, type RunConfig, type RunFolder } from '@ganstudio/runs/folder';

import { onFastestBackend } from '../backend';
import { loadCifar10 } from '../data/cifar';
import { isCifar10, type TrainingSet } from '../data/dataset';
import { saveModel } from '../training/model-io';
import type { Progress } from '../training/progress';
import { evaluateGenerator, evaluateImages, fidelityTargets, type EvalResult } from './evaluate';
import { imageBatches, loadFeatureNetwork, noiseBatches } from './features';
import { referenceCount, referenceRows, referenceStats, type RowReferences } from './reference';
import { resultLine } from './result';

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

export interface QualityTracker {
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
export async function measureEpoch(
  tracker: QualityTracker,
  gan: Gan,
  {
    run,
    at,
    samples,
    log,
    progress,
    classNames,
    copyCheck = false,
  }: {
    run: RunFolder;
    at: { step: number; epoch: number };
    samples: number;
    log: (line: string) => void;
    progress: Progress;
    classNames?: string[] | undefined;
    copyCheck?: boolean;
  },
): Promise<EvalResult> {
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
  const passport = passportOf(tracker.network.id, tracker.side, samples, r.reference, {
    generator: { conditional: Boolean(names), weights, quantization: 'float32' },
  });
  const measurement = measurementOf({ ...r, passport });
  run.appendMetric({
    type: 'fid',
    step: at.step,
    epoch: at.epoch,
    samples,
    feature_network: r.feature_network,
    reference: r.reference,
    // Which weights were measured: with an EMA the curve is the EMA's, not the raw generator's.
    weights,
    ...measurement,
    backend,
    seconds: (performance.now() - started) / 1000,
  });
  log(
    `epoch ${at.epoch} (${tracker.network.label} features, ${samples} samples vs ${r.reference}): ${resultLine(measurement)}`,
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
      const { passport: _passport, ...numbers } = measurement;
      run.writeBest({
        ...numbers,
        samples,
        feature_network: r.feature_network,
        reference: r.reference,
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

export async function startTracker({
  run,
  data,
  set,
  resolution,
  fid,
  limit,
  measured,
  log,
  progress,
}: {
  run: RunFolder;
  data: string;
  set: TrainingSet | undefined;
  resolution: Resolution;
  fid: NonNullable<RunConfig['fid']>;
  limit: number | null;
  /** What the periodic lines will measure (the scale line's passport), and the images trained on. */
  measured: { weights: string; conditional: boolean; trainImages: number };
  log: (line: string) => void;
  progress: Progress;
}): Promise<QualityTracker | undefined> {
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
    passport: passportOf(network.id, side, samples, reference.description, {
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
