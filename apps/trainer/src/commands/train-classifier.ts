/** `ganstudio train-classifier`: the CIFAR-10 classifier whose features every measurement reads (FID, KID, precision/recall, IS, copies). */
import { DEFAULT_CLASSIFIER_CONFIG } from '@ganstudio/models/eval';
import { MAX_SEED } from '@ganstudio/models/gan';

import { trainClassifier, type ClassifierRunConfig } from '../measure/classifier-train';
import { defineCommand } from './flags';
import { outFlag, reportSitting, SITTING_FLAGS, sittingOf, UsageError } from './shared';

export const CLASSIFIER_DEFAULTS = {
  epochs: 30,
  batchSize: 128,
  lr: 0.1,
  momentum: 0.9,
  weightDecay: 5e-4,
} as const;

export const trainClassifierCommand = defineCommand({
  summary: 'train the CIFAR-10 classifier used as the FID/IS feature network',
  about: `Trains the all-convolutional CIFAR-10 classifier whose penultimate layer and softmax give
"FID (CIFAR-10 classifier features)" and "IS (CIFAR-10 classifier)". Writes a run folder
(config.json, metrics.jsonl with test accuracy per epoch, checkpoints/, classifier-uint8/).`,
  flags: {
    data: {
      kind: 'path',
      help: 'cifar-10-binary.tar.gz or its extracted folder (train and test batches)',
    },
    epochs: {
      kind: 'int',
      min: 1,
      default: CLASSIFIER_DEFAULTS.epochs,
      help: 'passes over the training set',
    },
    'batch-size': {
      kind: 'int',
      min: 1,
      max: 4096,
      default: CLASSIFIER_DEFAULTS.batchSize,
      help: 'images per step',
    },
    lr: {
      kind: 'number',
      min: 1e-6,
      max: 10,
      default: CLASSIFIER_DEFAULTS.lr,
      help: 'peak learning rate of the one-cycle schedule',
    },
    'weight-decay': {
      kind: 'number',
      min: 0,
      max: 1,
      default: CLASSIFIER_DEFAULTS.weightDecay,
      help: 'L2 on kernels',
    },
    width: {
      kind: 'int',
      min: 1,
      max: 512,
      default: DEFAULT_CLASSIFIER_CONFIG.width,
      help: 'first-stage channels',
    },
    seed: {
      kind: 'int',
      min: 1,
      max: MAX_SEED,
      default: DEFAULT_CLASSIFIER_CONFIG.seed,
      help: 'weights, data order and augmentation',
    },
    init: {
      kind: 'path',
      help: "start from a trained classifier's weights (e.g. the shipped one) instead\nof random ones; its width wins over --width",
    },
    out: outFlag('classifier'),
    ...SITTING_FLAGS,
  },
  async run(v) {
    const sitting = sittingOf(v, 'classifier');
    if (!v.data && !v.resume) throw new UsageError('--data is required (cifar-10-binary.tar.gz)');
    const config: ClassifierRunConfig = {
      version: 1,
      data: v.data ?? '',
      limit: v.limit ?? null,
      epochs: v.epochs,
      batchSize: v['batch-size'],
      lr: v.lr,
      momentum: CLASSIFIER_DEFAULTS.momentum,
      weightDecay: v['weight-decay'],
      init: v.init ?? null,
      model: { width: v.width, seed: v.seed },
    };
    return reportSitting(
      await trainClassifier({ config, ...sitting }),
      sitting.out,
      'train-classifier',
    );
  },
});
