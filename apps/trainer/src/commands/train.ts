/** `ganstudio train`: a DCGAN on CIFAR-10 into a run folder. */
import { existsSync } from 'node:fs';

import {
  DEFAULT_DCGAN_CONFIG,
  DEFAULT_OPTIMIZER,
  GAN_LOSSES,
  MAX_SEED,
} from '@ganstudio/models/gan';
import { RUN_FORMAT, type RunConfig } from '@ganstudio/runs/folder';

import { selectBackend } from '../backend';
import { ensureOfficialCifar10 } from '../data/cifar';
import { UserError } from '../errors';
import { materializeCarriedRun } from '../training/carry';
import {
  DEFAULT_EMA_DECAY,
  RECIPES,
  TRAIN_DEFAULTS,
  validateRunConfig,
  type RecipeName,
} from '../training/recipes';
import { readRunConfig } from '../training/sitting';
import { train } from '../training/train';
import { defineCommand } from './flags';
import { outFlag, reportSitting, SITTING_FLAGS, sittingOf, UsageError } from './shared';

const MAX_FID_SAMPLES = 1_000_000;

export const trainCommand = defineCommand({
  summary: 'train a DCGAN on CIFAR-10 or your own images into a run folder',
  about: `Trains a DCGAN on CIFAR-10 or your own images and writes a run folder (config.json,
metrics.jsonl, samples/epoch-NNNN.png, checkpoints/, epochs/, generator-uint8/).`,
  flags: {
    data: {
      kind: 'path',
      defaultText: 'CIFAR-10, downloaded once into ~/.cache/gan-studio and verified',
      help: 'cifar-10-binary.tar.gz or its folder, or your own images: a folder\n(searched recursively), .zip or .tar.gz of PNG, JPEG or WebP files',
    },
    resolution: {
      kind: 'choice',
      choices: ['32', '64'],
      default: '32',
      help: "image side: your images are centre-cropped and resized to it once\n(cached); 64 builds the paper's 64×64 DCGAN (one more stage in G and D)",
    },
    strict: {
      kind: 'bool',
      help: 'a file of your images that does not decode stops the run (default:\nskipped and counted in the summary)',
    },
    recipe: {
      kind: 'choice',
      choices: Object.keys(RECIPES) as RecipeName[],
      default: TRAIN_DEFAULTS.recipe,
      help: `widths and epochs: narrow (ngf = ndf = ${RECIPES.narrow.ngf}, ${RECIPES.narrow.epochs} epochs: the best measured per\nCPU-hour, the shipped model) or paper (DCGAN's ${RECIPES.paper.ngf}, ${RECIPES.paper.epochs} epochs);\n--ngf, --ndf and --epochs override it`,
    },
    epochs: {
      kind: 'int',
      min: 1,
      // No `default`: --carry-from must tell a given --epochs from the default.
      defaultText: `the recipe's: ${RECIPES.narrow.epochs}, paper ${RECIPES.paper.epochs}`,
      help: 'passes over the data',
    },
    'batch-size': {
      kind: 'int',
      min: 1,
      max: 4096,
      default: TRAIN_DEFAULTS.batchSize,
      help: 'images per step',
    },
    lr: { kind: 'number', default: DEFAULT_OPTIMIZER.lr, help: 'Adam learning rate, DCGAN paper' },
    'lr-d': {
      kind: 'number',
      defaultText: '--lr for both',
      help: "the discriminator's own learning rate: TTUR (Heusel et al. 2017; their\nDCGAN uses --lr 0.0001 --lr-d 0.0004)",
    },
    beta1: { kind: 'number', default: DEFAULT_OPTIMIZER.beta1, help: 'Adam beta1, DCGAN paper' },
    ngf: {
      kind: 'int',
      min: 1,
      max: 1024,
      defaultText: `the recipe's: ${RECIPES.narrow.ngf}, paper ${RECIPES.paper.ngf}`,
      help: 'generator base width',
    },
    ndf: {
      kind: 'int',
      min: 1,
      max: 1024,
      defaultText: `the recipe's: ${RECIPES.narrow.ndf}, paper ${RECIPES.paper.ndf}`,
      help: 'discriminator base width',
    },
    'latent-dim': {
      kind: 'int',
      min: 1,
      max: 4096,
      default: DEFAULT_DCGAN_CONFIG.latentDim,
      help: 'length of z',
    },
    loss: {
      kind: 'choice',
      choices: GAN_LOSSES,
      default: DEFAULT_DCGAN_CONFIG.loss,
      help: 'GAN loss (bce: non-saturating)',
    },
    conditional: {
      kind: 'bool',
      help: "class-conditional: G and D take each image's class (CIFAR-10's labels, or\none class per subfolder of --data); sample with --class",
    },
    'spectral-norm': {
      kind: 'bool',
      help: 'spectral normalisation on every D layer instead of batch norm (Miyato\net al. 2018; their SN-DCGAN pairs it with --loss hinge)',
    },
    ema: {
      kind: 'number',
      min: 0,
      max: 0.999999,
      default: DEFAULT_EMA_DECAY,
      help: "keep an exponential moving average of G's weights with this decay\nand sample/export from it; 0 turns it off",
    },
    seed: {
      kind: 'int',
      min: 0,
      max: MAX_SEED,
      default: DEFAULT_DCGAN_CONFIG.seed,
      help: 'weights, data order, noise and the sample grid',
    },
    out: outFlag('run'),
    'sample-every': {
      kind: 'int',
      min: 1,
      default: TRAIN_DEFAULTS.sampleEvery,
      help: 'sample grid every N epochs',
    },
    'fid-every': {
      kind: 'int',
      min: 0,
      default: TRAIN_DEFAULTS.fidEvery,
      help: 'classifier FID into metrics.jsonl every N epochs, keeping the best\ngenerator in generator-best/; 0 turns it off',
    },
    'fid-samples': {
      kind: 'int',
      min: 2,
      max: MAX_FID_SAMPLES,
      default: TRAIN_DEFAULTS.fidSamples,
      help: 'samples per periodic FID',
    },
    'fid-final-samples': {
      kind: 'int',
      min: 2,
      max: MAX_FID_SAMPLES,
      defaultText:
        '--fid-samples,\nor 10000 once the run sees a full CIFAR-10 epoch of 50,000 images',
      help: 'samples for the FID at the end of the run',
    },
    'fid-classifier': {
      kind: 'path',
      defaultText: 'the shipped CIFAR-10 classifier',
      help: 'feature network',
    },
    'checkpoint-every': {
      kind: 'int',
      min: 1,
      default: TRAIN_DEFAULTS.checkpointEvery,
      help: 'checkpoint every N steps as well as every epoch end',
    },
    'log-every': {
      kind: 'int',
      min: 1,
      default: TRAIN_DEFAULTS.logEvery,
      help: 'metrics line every N steps',
    },
    'carry-from': {
      kind: 'path',
      metavar: 'DIR',
      help: 'continue the run carried in DIR (a bundle made with --carry, e.g.\npackages/bundled/default-run) in a new --out folder, on any machine:\nsame recipe, metrics, grids and Adam moments. Needs --epochs\n(the epoch to train to); --data, or CIFAR-10 is downloaded',
    },
    ...SITTING_FLAGS,
  },
  async run(v) {
    const from = v['carry-from'];
    if (from && v.resume)
      throw new UsageError('--resume continues a run folder, --carry-from a carried run: pass one');
    if (from && v.epochs === undefined)
      throw new UsageError('--carry-from needs --epochs N: the epoch to train the carried run to');
    const sitting = sittingOf(v, 'run');
    const recipe = RECIPES[v.recipe];
    const config: RunConfig = {
      version: RUN_FORMAT,
      data: '', // resolved below, once every flag has been checked (a typo must not start a 170 MB download)
      limit: v.limit ?? null,
      // --resume without --epochs trains to the run's own end (the saved count wins over 1).
      epochs: v.epochs ?? (v.resume ? 1 : recipe.epochs),
      batchSize: v['batch-size'],
      optimizer: {
        ...DEFAULT_OPTIMIZER,
        lr: v.lr,
        beta1: v.beta1,
        ...(v['lr-d'] === undefined ? {} : { lrD: v['lr-d'] }),
      },
      model: {
        latentDim: v['latent-dim'],
        ngf: v.ngf ?? recipe.ngf,
        ndf: v.ndf ?? recipe.ndf,
        loss: v.loss,
        seed: v.seed,
        ...(v['spectral-norm'] ? { spectralNorm: true } : {}),
        ...(v.resolution === '64' ? { resolution: 64 as const } : {}),
      },
      ...(v.strict ? { strict: true } : {}),
      ...(v.conditional ? { conditional: true } : {}),
      sampleEvery: v['sample-every'],
      checkpointEvery: v['checkpoint-every'],
      logEvery: v['log-every'],
      sampleSeed: v.seed,
      sampleCount: TRAIN_DEFAULTS.sampleCount,
      ema: v.ema === 0 ? null : v.ema,
      fid: {
        every: v['fid-every'],
        samples: v['fid-samples'],
        // null: proportionate to the run (finalFidSamples), decided when its length is known.
        finalSamples: v['fid-final-samples'] ?? null,
        classifier: v['fid-classifier'] ?? null,
      },
    };
    try {
      validateRunConfig(config); // before the data: a bad flag must not start a 170 MB download
    } catch (err) {
      throw err instanceof UserError ? new UsageError(err.message) : err;
    }
    const carriedData = from ? readRunConfig<RunConfig>(from, '--carry-from').data : '';
    config.data =
      v.data ??
      (v.resume
        ? ''
        : from && carriedData && existsSync(carriedData)
          ? carriedData
          : await ensureOfficialCifar10((l) => process.stderr.write(l + '\n')));
    if (from) {
      await selectBackend(sitting.backend);
      await materializeCarriedRun({
        from,
        out: sitting.out,
        epochs: config.epochs,
        data: config.data,
      });
      return reportSitting(await train({ config, ...sitting, resume: true }), sitting.out);
    }
    return reportSitting(await train({ config, ...sitting }), sitting.out);
  },
});
