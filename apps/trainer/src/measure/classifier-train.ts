/**
 * `train-classifier`: trains the CIFAR-10 classifier whose penultimate layer and softmax are the
 * project's always-available FID / IS feature network. Same run-folder discipline as
 * the GAN trainer: config.json, metrics.jsonl, atomic checkpoints, --resume, and at the end a
 * uint8 export carrying its test accuracy in the model.json metadata.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import { at } from '@ganstudio/models/arrays';
import {
  buildClassifier,
  classifierStep,
  classify,
  type ClassifierConfig,
} from '@ganstudio/models/eval';
import { createRng } from '@ganstudio/models/gan';
import { RunFolder } from '@ganstudio/runs/folder';

import { selectBackend, type BackendChoice, type BackendInfo } from '../backend';
import { batchTensor, epochPermutation, limitData, planBatches } from '../data/batches';
import { loadCifar10, type PlanarImages } from '../data/cifar';
import { UserError } from '../errors';
import {
  loadLatestCheckpointWith,
  restoreOptimizer,
  saveCheckpointFolder,
  saveOptimizer,
} from '../training/checkpoint';
import { loadModel, saveModel } from '../training/model-io';
import { Progress } from '../training/progress';
import { recipeFor, runLoop, startSitting, type StepOutcome } from '../training/sitting';

export interface ClassifierRunConfig {
  version: 1;
  data: string;
  limit: number | null;
  epochs: number;
  batchSize: number;
  /** Peak SGD learning rate of the one-cycle schedule (Smith & Topin 2017). */
  lr: number;
  momentum: number;
  weightDecay: number;
  /** Warm start: an exported classifier folder whose weights replace the random initialisation. */
  init?: string | null;
  model: ClassifierConfig;
}

export interface ClassifierTrainOptions {
  config: ClassifierRunConfig;
  out: string;
  resume: boolean;
  backend: BackendChoice;
  maxSteps?: number;
  log?: (line: string) => void;
  progress?: Progress;
  /** Pre-loaded data (tests). */
  dataset?: { train: PlanarImages; test: PlanarImages };
}

export interface ClassifierTrainResult {
  backend: BackendInfo;
  finalStep: number;
  totalSteps: number;
  finished: boolean;
  testAccuracy?: number;
  exportDir?: string;
}

interface ClassifierState {
  step: number;
  epoch: number;
  trainSeconds: number;
  testAccuracy: number | null;
}

/** Linear warm-up over the first 15% of steps to the peak, then linear decay to 0. */
export function oneCycleLr(peak: number, step: number, total: number): number {
  const warm = Math.max(1, Math.round(total * 0.15));
  if (step < warm) return (peak * (step + 1)) / warm;
  return (peak * Math.max(0, total - step)) / Math.max(1, total - warm);
}

/** Eval-mode top-1 accuracy on `data`, in batches (each batch's tensors freed before the next). */
export async function testAccuracy(
  model: tfl.LayersModel,
  data: PlanarImages,
  batchSize = 500,
): Promise<number> {
  let correct = 0;
  for (let start = 0; start < data.count; start += batchSize) {
    const n = Math.min(batchSize, data.count - start);
    const indices = Array.from({ length: n }, (_, i) => start + i);
    const x = batchTensor(data, indices);
    const [features, logits] = classify(model, x);
    const predicted = tf.tidy(() => tf.argMax(logits, 1));
    try {
      const p = await predicted.data();
      for (let i = 0; i < n; i++) if (p[i] === data.labels[start + i]) correct++;
    } finally {
      tf.dispose([x, features, logits, predicted]);
    }
  }
  return correct / data.count;
}

/** A trained classifier to continue from; one clear error when the folder is not one. */
async function loadInit(dir: string): Promise<tfl.LayersModel> {
  let model: tfl.LayersModel;
  try {
    model = await loadModel(dir);
  } catch (err) {
    throw new UserError(`--init ${dir}: not a classifier model folder (${(err as Error).message})`);
  }
  const shapes = model.outputs.map((o) => o.shape.join('x'));
  if (model.outputs.length !== 2 || !shapes[1]?.endsWith('x10')) {
    model.dispose();
    throw new UserError(
      `--init ${dir}: expected a CIFAR-10 classifier [features, logits], got outputs ${shapes.join(', ')}`,
    );
  }
  return model;
}

export async function trainClassifier(
  options: ClassifierTrainOptions,
): Promise<ClassifierTrainResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const { out } = options;
  const run = new RunFolder(out);
  const config = recipeFor(out, options.resume, options.config);
  const backend = await selectBackend(options.backend);
  log(`backend: ${backend.reason}`);
  const full = options.dataset?.train ?? loadCifar10(config.data, 'train');
  const test = options.dataset?.test ?? loadCifar10(config.data, 'test');
  const train = limitData(full, config.limit, config.batchSize);
  const { count } = train;
  const plan = planBatches(count, config.batchSize);
  const totalSteps = plan.stepsPerEpoch * config.epochs;
  mkdirSync(out, { recursive: true });
  run.writeConfig({ ...config, backend: backend.resolved });

  // Nesterov momentum SGD: the usual CIFAR-10 recipe (He et al. 2016) with the one-cycle schedule.
  const makeOptimizer = () => tf.train.momentum(config.lr, config.momentum, true);
  let model: tfl.LayersModel;
  let optimizer: tf.MomentumOptimizer;
  let state: ClassifierState = { step: 0, epoch: 0, trainSeconds: 0, testAccuracy: null };
  const loaded = options.resume
    ? await loadLatestCheckpointWith<
        { model: tfl.LayersModel; optimizer: tf.MomentumOptimizer },
        ClassifierState
      >(out, async (dir) => {
        const m = await loadModel(join(dir, 'classifier'));
        const o = makeOptimizer();
        await restoreOptimizer(dir, 'sgd', o);
        return { model: m, optimizer: o };
      })
    : undefined;
  if (loaded) {
    ({ model, optimizer } = loaded.value);
    state = loaded.state;
    run.truncateMetrics(state.step);
    log(`resumed from step ${state.step} (${loaded.dir})`);
  } else {
    model = config.init ? await loadInit(config.init) : buildClassifier(config.model);
    optimizer = makeOptimizer();
  }

  const progress = options.progress ?? new Progress(process.stderr, config.batchSize);
  const sitting = startSitting(state, totalSteps, options.maxSteps);
  const { endStep, signals, trainSeconds } = sitting;
  /** Test accuracy of the epoch that just ended, saved with its checkpoint. */
  let epochAccuracy: number | null = null;
  const checkpoint = async (step: number) => {
    state = {
      step,
      epoch: Math.floor(step / plan.stepsPerEpoch),
      trainSeconds: trainSeconds(),
      testAccuracy: epochAccuracy,
    };
    epochAccuracy = null;
    await saveCheckpointFolder(out, state, async (tmp) => {
      await saveModel(model, join(tmp, 'classifier'));
      await saveOptimizer(tmp, 'sgd', optimizer);
    });
  };
  let perm: Uint32Array | undefined;
  let permEpoch = -1;
  let last = { loss: NaN, accuracy: NaN };
  /** One SGD step on a flipped and shifted batch (the standard CIFAR-10 augmentation). */
  const trainOne = async (step: number, epoch: number, offset: number): Promise<StepOutcome> => {
    if (!perm || epoch !== permEpoch) {
      perm = epochPermutation(count, config.model.seed, epoch);
      permEpoch = epoch;
    }
    const rng = createRng((config.model.seed * 31 + step * 7919 + 1) >>> 0);
    const n = config.batchSize;
    const flips = Array.from({ length: n }, () => rng() < 0.5);
    const shifts = Array.from({ length: 2 * n }, () => Math.floor(rng() * 9) - 4);
    const indices = perm.subarray(offset, offset + n);
    const x = batchTensor(train, indices, flips, shifts);
    const y = tf.tensor1d(
      Int32Array.from(indices, (i) => at(train.labels, i)),
      'int32',
    );
    optimizer.setLearningRate(oneCycleLr(config.lr, step, totalSteps));
    try {
      last = await classifierStep(model, optimizer, x, y, config.weightDecay);
    } finally {
      tf.dispose([x, y]);
    }
    if (!Number.isFinite(last.loss))
      throw new UserError(
        `non-finite loss at step ${step + 1}; the last checkpoint is kept: resume with a lower --lr`,
      );
    return { figures: { loss: last.loss, batch_accuracy: last.accuracy } };
  };
  try {
    await runLoop({
      plan,
      totalSteps,
      epochs: config.epochs,
      batchSize: config.batchSize,
      sitting,
      progress,
      logEvery: 20,
      step: trainOne,
      async epochEnd(done, epoch) {
        epochAccuracy = await testAccuracy(model, test);
        run.appendMetric({
          type: 'epoch',
          step: done,
          epoch,
          train_loss: last.loss,
          test_accuracy: epochAccuracy,
          elapsed_s: trainSeconds(),
        });
        progress.done();
        log(`epoch ${epoch}: test accuracy ${(epochAccuracy * 100).toFixed(2)}%`);
      },
      checkpoint,
    });
    const finished = endStep === totalSteps && !signals.stopped;
    let exportDir: string | undefined;
    if (finished) {
      exportDir = join(out, 'classifier-uint8');
      const accuracy = state.testAccuracy ?? (await testAccuracy(model, test));
      await saveModel(model, exportDir, 'uint8', {
        feature_network: 'cifar10-classifier',
        test_accuracy: accuracy,
        epochs: config.epochs,
        width: (at(model.outputs, 0).shape[1] as number) / 8,
        ...(config.init ? { init: config.init } : {}),
      });
      log(
        `exported the uint8 classifier (test accuracy ${(accuracy * 100).toFixed(2)}%) to ${exportDir}`,
      );
      return {
        backend,
        finalStep: state.step,
        totalSteps,
        finished,
        testAccuracy: accuracy,
        exportDir,
      };
    }
    if (signals.stopped)
      log(`interrupted: checkpoint saved at step ${state.step}; continue with --resume`);
    return { backend, finalStep: state.step, totalSteps, finished };
  } finally {
    signals.release();
    model.dispose();
    optimizer.dispose();
  }
}
