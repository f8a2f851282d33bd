/** `ganstudio eval`: FID, KID, precision/recall, IS and copies of a generator (or real / noise images), with their passport. */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';

import { at } from '@ganstudio/models/arrays';
import { collectFeatures, compareSamples } from '@ganstudio/models/eval';
import { classCountOf, MAX_SEED, type Resolution } from '@ganstudio/models/gan';
import { encodePng, tensorToRgba, tileGrid } from '@ganstudio/models/image';
import { passportOf } from '@ganstudio/models/measurement';
import { describeDifference, passportDifference, passportLine } from '@ganstudio/models/passport';
import { resolveGeneratorDir } from '@ganstudio/runs/folder';
import { writeFileAtomic } from '@ganstudio/runs/fs-atomic';

import { selectBackend } from '../backend';
import { loadCifar10 } from '../data/cifar';
import { isCifar10 } from '../data/dataset';
import { evaluateImages, fidelityTargets, generatorWeights } from '../measure/evaluate';
import {
  FEATURE_NETWORKS,
  generatorBatches,
  imageBatches,
  loadFeatureNetwork,
  noiseBatches,
} from '../measure/features';
import {
  referenceClassStats,
  referenceRows,
  referenceStats,
  type RowReferences,
} from '../measure/reference';
import { percent, resultLine } from '../measure/result';
import { generatorClassNames, loadModel } from '../training/model-io';
import { Progress } from '../training/progress';
import { defineCommand, userPath, type Flags, type Values } from './flags';
import { TRUNCATION_FLAG } from './sample';
import { BACKEND_FLAG, UsageError } from './shared';

const EVAL_FLAGS = {
  model: { kind: 'path', help: 'generator: model folder, checkpoint or run folder' },
  data: {
    kind: 'path',
    required: 'cifar-10-binary.tar.gz: the reference set',
    help: 'cifar-10-binary.tar.gz or its folder (the reference set)',
  },
  samples: {
    kind: 'int',
    min: 2,
    max: 1_000_000,
    default: 10_000,
    help: 'images to sample (50000 for paper-comparable FID)',
  },
  'feature-network': {
    kind: 'choice',
    choices: FEATURE_NETWORKS,
    default: 'classifier',
    help: "the project's CIFAR-10 classifier, or Inception-v3",
  },
  classifier: { kind: 'path', help: 'another classifier model folder than the shipped one' },
  inception: {
    kind: 'text',
    metavar: 'PATH|URL',
    help: 'a Keras InceptionV3 converted to TF.js layers format (see docs/metrics.md)',
  },
  source: {
    kind: 'choice',
    choices: ['model', 'cifar-test', 'noise'],
    default: 'model',
    help: "the generator, real test images or uniform noise:\nthe last two put the generator's numbers on a scale",
  },
  seed: { kind: 'int', min: 0, max: MAX_SEED, default: 0, help: 'latent seed' },
  compare: {
    kind: 'bool',
    help: 'measure two generators A B (given after the flags) on one protocol: FID and KID\ndifferences with 95% intervals (paired half-sampling) and which is better, if either',
  },
  'seed-b': {
    kind: 'int',
    min: 0,
    max: MAX_SEED,
    defaultText: '--seed',
    help: "with --compare: B's latent seed (A against itself under another seed\nmust come out even)",
  },
  truncation: {
    ...TRUNCATION_FLAG,
    help: 'sample z from N(0, I) cut at ±X: the quality/variety trade of\nBrock et al. 2019, measured',
  },
  'batch-size': { kind: 'int', min: 1, max: 4096, default: 250, help: 'images per batch' },
  'copies-grid': {
    kind: 'path',
    metavar: 'FILE',
    help: 'write the samples nearest the training set as a PNG: each beside its\nnearest training image (CIFAR-10 only)',
  },
  json: {
    kind: 'bool',
    help: 'print one JSON line: fid, is_mean, is_std, feature_network, samples, reference,\nkid, kid_std, precision, recall, copies, passport (and truncation when set;\nclass_fidelity and per_class for a conditional model)',
  },
  backend: BACKEND_FLAG,
} satisfies Flags;

export const evalCommand = defineCommand({
  summary: 'FID and Inception Score of a generator against CIFAR-10, with a named feature network',
  about: `Samples the generator, extracts features and reports FID (against the CIFAR-10 training set's
statistics, cached next to the dataset) and IS (10 splits, mean ± std). Every number is labelled
with the feature network it came from: numbers from different networks do not compare. Latents
follow the FID protocol of docs/training.md (stream batches from --seed). A class-conditional
generator draws sample i in class i mod classes, and gains a per-class table: FID against that
class's real images, and class fidelity (the share the CIFAR-10 classifier calls that class).`,
  flags: EVAL_FLAGS,
  positionals: {
    usage: '[--compare A B]',
    min: 0,
    max: 2,
    error: '--compare takes two generators: ganstudio eval --compare A B --data …',
  },
  async run(v, positionals) {
    if (v.compare) {
      const [a, b] = positionals;
      if (!a || !b)
        throw new UsageError(
          '--compare takes two generators: ganstudio eval --compare A B --data …',
        );
      if (v.model || v.source !== 'model')
        throw new UsageError(
          '--compare measures the two generators it is given: drop --model and --source',
        );
      return compare(v, userPath(a), userPath(b));
    }
    if (positionals.length)
      throw new UsageError(
        `unexpected ${positionals.join(' ')}: give the generator with --model (or two with --compare)`,
      );
    if (v['seed-b'] !== undefined) throw new UsageError('--seed-b goes with --compare');
    const source = v.source;
    if (source === 'model' && !v.model)
      throw new UsageError('--model is required (a model folder, checkpoint or run folder)');
    if (Number.isFinite(v.truncation) && source !== 'model')
      throw new UsageError('--truncation applies to --source model only');
    const data = v.data;
    const generatorDir = v.model ? resolveGeneratorDir(v.model) : undefined;
    const info = await selectBackend(v.backend);
    const log = (line: string) => process.stderr.write(line + '\n');
    log(`backend: ${info.reason}`);
    const network = await featureNetworkOf(v);
    const generator =
      generatorDir && source === 'model' ? await loadModel(generatorDir) : undefined;
    try {
      const progress = new Progress(process.stderr, v['batch-size']);
      const reference = await referenceStats(network, data, {
        resolution: generator ? outputSide(generator) : 32,
        batchSize: v['batch-size'],
        log,
        progress: (total) => progress.phase('reference statistics', total),
      });
      const batches = generator
        ? generatorBatches(generator, v.seed, v.truncation)
        : source === 'noise'
          ? noiseBatches(v.seed)
          : imageBatches(loadCifar10(data, 'test'));
      const names = generator && generatorDir ? generatorClassNames(generatorDir, generator) : [];
      let classes: NonNullable<Parameters<typeof evaluateImages>[4]>['classes'];
      if (generator && names.length) {
        const real = await referenceClassStats(network, data, {
          resolution: outputSide(generator),
          batchSize: v['batch-size'],
          log,
          progress: (total) => progress.phase('per-class reference statistics', total),
        });
        const same = real.names.join('\0') === names.join('\0');
        if (!same)
          log(
            `per-class FID skipped: the generator's classes (${names.join(', ')}) are not the data's (${real.names.join(', ')})`,
          );
        classes = {
          names,
          targets: fidelityTargets(network, names),
          ...(same ? { reference: real.stats } : {}),
        };
      }
      const side = generator ? outputSide(generator) : 32;
      const rowsOf = (split: 'train' | 'test', count?: number) =>
        referenceRows(network, data, {
          split,
          resolution: side,
          batchSize: v['batch-size'],
          log,
          progress: (total) => progress.phase(`${split} image features`, total),
          ...(count ? { count } : {}),
        });
      // The copy check's scale comes from real images the generator never saw: CIFAR-10's test set.
      const rows: RowReferences = {
        train: await rowsOf('train'),
        ...(isCifar10(data) ? { heldOut: await rowsOf('test', Math.min(v.samples, 10_000)) } : {}),
      };
      const started = performance.now();
      const result = await evaluateImages(network, reference, batches, v.samples, {
        ...(classes ? { classes } : {}),
        rows,
        batchSize: v['batch-size'],
        onBatch: progress.phase(
          `features of ${v.samples} ${source === 'model' ? 'samples' : source} images`,
          v.samples,
        ),
      });
      const seconds = (performance.now() - started) / 1000;
      const truncated = Number.isFinite(v.truncation);
      const passport = passportOf(
        network.id,
        side,
        v.samples,
        result.reference,
        source === 'model' && generatorDir
          ? {
              generator: {
                truncation: v.truncation,
                conditional: names.length > 0,
                ...generatorWeights(generatorDir),
              },
            }
          : { images: source === 'noise' ? 'uniform noise' : 'cifar10 test images in file order' },
      );
      const { closest, ...reported } = result;
      const labelled = {
        ...reported,
        ...(truncated ? { truncation: v.truncation } : {}),
        passport,
      };
      if (v['copies-grid']) {
        if (!rows.heldOut)
          throw new UsageError('--copies-grid needs CIFAR-10 --data (a held-out test split)');
        const train = imageBatches(loadCifar10(data, 'train'));
        const sample = (i: number) => {
          // Stream batches: sample i is row i − start of the batch that starts at its multiple of --batch-size.
          const start = i - (i % v['batch-size']);
          const batch = batches(start, Math.min(v['batch-size'], v.samples - start));
          const one = tf.slice(batch, [i - start, 0, 0, 0], [1, -1, -1, -1]);
          batch.dispose();
          return one;
        };
        const tiles = [];
        for (const pair of closest ?? []) {
          const [a, b] = [sample(pair.sample), train(pair.train, 1)];
          tiles.push(...(await tensorToRgba(a)), ...(await tensorToRgba(b)));
          tf.dispose([a, b]);
        }
        if (tiles.length) {
          writeFileAtomic(
            userPath(v['copies-grid']),
            encodePng(tileGrid(tiles, { columns: 2, scale: 4 })),
          );
          log(
            `wrote the ${tiles.length / 2} samples nearest the training set to ${v['copies-grid']}`,
          );
        }
      }
      if (v.json) process.stdout.write(JSON.stringify(labelled) + '\n');
      else
        process.stdout.write(
          [
            resultLine(result),
            `${v.samples} ${source === 'model' ? `samples of ${generatorDir}${truncated ? ` (z truncated at ±${v.truncation})` : ''}` : source} vs ${result.reference}; ${network.label} features (${network.id}); ${seconds.toFixed(1)} s`,
            `KID over 100 subsets of ${Math.min(1000, Math.floor(v.samples / 2))}; precision and recall with k = 3; copies: samples nearer the training set than 99% of held-out real images${typeof result.copies === 'number' ? '' : ' (not measured: no held-out set)'}`,
            ...classTable(result),
            `protocol: ${passportLine(passport)} (--json: passport)`,
          ].join('\n') + '\n',
        );
      return 0;
    } finally {
      generator?.dispose();
      network.dispose();
    }
  },
});

/** A conditional generator's per-class lines: class, FID, class fidelity, samples. */
function classTable(r: Awaited<ReturnType<typeof evaluateImages>>): string[] {
  if (!r.per_class) return [];
  const width = Math.max(5, ...r.per_class.map((c) => c.class.length));
  return [
    `class fidelity (CIFAR-10 classifier): ${r.class_fidelity === undefined ? '— (not CIFAR-10 classes)' : percent(r.class_fidelity)}`,
    `${'class'.padEnd(width)}  ${'FID'.padStart(7)}  fidelity  samples`,
    ...r.per_class.map(
      (c) =>
        `${c.class.padEnd(width)}  ${(c.fid === null ? '—' : c.fid.toFixed(3)).padStart(7)}  ${percent(c.class_fidelity).padStart(8)}  ${String(c.samples).padStart(7)}`,
    ),
  ];
}

/** The side of a generator's images (32 or 64). */
const outputSide = (g: LayersModel) => at(g.outputs, 0).shape[1] as Resolution;

/** The feature network the flags name: the classifier (shipped or --classifier), or --inception. */
function featureNetworkOf(v: Values<typeof EVAL_FLAGS>) {
  const kind = v['feature-network'];
  return loadFeatureNetwork(
    kind,
    kind === 'inception'
      ? v.inception && (/^https?:/.test(v.inception) ? v.inception : userPath(v.inception))
      : v.classifier,
  );
}

/**
 * `eval --compare A B`: both generators sampled on one protocol (same count, latent protocol,
 * network and reference rows), then compareSamples' paired half-sample intervals on the FID and
 * KID differences. Refuses generators whose passports differ in anything but their own weights.
 */
async function compare(v: Values<typeof EVAL_FLAGS>, a: string, b: string): Promise<number> {
  const dirs = [resolveGeneratorDir(a), resolveGeneratorDir(b)] as const;
  const info = await selectBackend(v.backend);
  const log = (line: string) => process.stderr.write(line + '\n');
  log(`backend: ${info.reason}`);
  const network = await featureNetworkOf(v);
  const generators: LayersModel[] = [];
  try {
    for (const dir of dirs) generators.push(await loadModel(dir));
    const [ga, gb] = [at(generators, 0), at(generators, 1)];
    const progress = new Progress(process.stderr, v['batch-size']);
    const reference = await referenceStats(network, v.data, {
      resolution: outputSide(ga),
      batchSize: v['batch-size'],
      log,
      progress: (total) => progress.phase('reference statistics', total),
    });
    const passports = dirs.map((dir, i) =>
      passportOf(network.id, outputSide(at(generators, i)), v.samples, reference.description, {
        generator: {
          truncation: v.truncation,
          conditional: classCountOf(at(generators, i)) > 0,
          ...generatorWeights(dir),
        },
      }),
    );
    const [pa, pb] = [at(passports, 0), at(passports, 1)];
    // Their own weights and quantization are what is compared; everything else must match.
    const differ = passportDifference(pa, {
      ...pb,
      weights: pa.weights,
      quantization: pa.quantization,
    });
    if (differ)
      throw new UsageError(
        `A and B cannot be measured on one protocol: ${describeDifference(differ)}`,
      );
    const real = await referenceRows(network, v.data, {
      count: v.samples,
      resolution: outputSide(ga),
      batchSize: v['batch-size'],
      log,
      progress: (total) => progress.phase('train image features', total),
    });
    const features = async (g: LayersModel, seed: number, name: string) => {
      const got = await collectFeatures(
        network,
        v.samples,
        v['batch-size'],
        generatorBatches(g, seed, v.truncation),
        {
          keepRows: true,
          onBatch: progress.phase(`features of ${v.samples} samples of ${name}`, v.samples),
        },
      );
      return { data: got.rows ?? new Float32Array(0), n: v.samples };
    };
    const seedB = v['seed-b'] ?? v.seed;
    const rowsA = await features(ga, v.seed, 'A');
    const rowsB = await features(gb, seedB, 'B');
    log('comparing: 100 paired half-sample replicates');
    const r = await compareSamples(real, reference.stats, rowsA, rowsB);
    const result = {
      ...r,
      a: { model: a, seed: v.seed, weights: pa.weights, quantization: pa.quantization, ...r.a },
      b: { model: b, seed: seedB, weights: pb.weights, quantization: pb.quantization, ...r.b },
      passport: { ...pa, weights: 'per generator', quantization: 'per generator' },
    };
    if (v.json) process.stdout.write(JSON.stringify(result) + '\n');
    else {
      const range = ([lo, hi]: [number, number], digits: number) =>
        `[${lo.toFixed(digits)}, ${hi.toFixed(digits)}]`;
      process.stdout.write(
        [
          `A ${a}: FID ${result.a.fid.toFixed(3)}, KID ${result.a.kid.toFixed(5)} ± ${result.a.kid_std.toFixed(5)}`,
          `B ${b}: FID ${result.b.fid.toFixed(3)}, KID ${result.b.kid.toFixed(5)} ± ${result.b.kid_std.toFixed(5)}`,
          `FID A − B: ${r.fid_diff.toFixed(3)}, 95% interval ${range(r.fid_ci95, 3)}`,
          `KID A − B: ${r.kid_diff.toFixed(5)}, 95% interval ${range(r.kid_ci95, 5)}`,
          r.better
            ? `better: ${r.better} (both intervals exclude 0)`
            : 'better: neither (an interval includes 0: the difference is within sampling noise)',
          `protocol: ${passportLine(result.passport)}`,
        ].join('\n') + '\n',
      );
    }
    return 0;
  } finally {
    for (const g of generators) g.dispose();
    network.dispose();
  }
}
