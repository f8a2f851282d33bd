/** `ganstudio eval`: FID and IS of a generator (or real / noise images), labelled with their network. */
import type { LayersModel } from '@tensorflow/tfjs-layers';

import { at } from '@ganstudio/models/arrays';
import { MAX_SEED, type Resolution } from '@ganstudio/models/gan';
import { resolveGeneratorDir } from '@ganstudio/runs/folder';

import { selectBackend } from '../backend';
import { loadCifar10 } from '../cifar';
import {
  evaluateImages,
  FEATURE_NETWORKS,
  fidelityTargets,
  generatorBatches,
  imageBatches,
  loadFeatureNetwork,
  noiseBatches,
  referenceClassStats,
  referenceStats,
} from '../evaluate';
import { generatorClassNames, loadModel } from '../model-io';
import { Progress } from '../progress';
import { defineCommand, userPath } from './flags';
import { TRUNCATION_FLAG } from './sample';
import { BACKEND_FLAG, UsageError } from './shared';

export const evalCommand = defineCommand({
  summary: 'FID and Inception Score of a generator against CIFAR-10, with a named feature network',
  about: `Samples the generator, extracts features and reports FID (against the CIFAR-10 training set's
statistics, cached next to the dataset) and IS (10 splits, mean ± std). Every number is labelled
with the feature network it came from: numbers from different networks do not compare. Latents
follow the FID protocol of docs/training.md (stream batches from --seed). A class-conditional
generator draws sample i in class i mod classes, and gains a per-class table: FID against that
class's real images, and class fidelity (the share the CIFAR-10 classifier calls that class).`,
  flags: {
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
      help: 'a Keras InceptionV3 converted to TF.js layers format (see README)',
    },
    source: {
      kind: 'choice',
      choices: ['model', 'cifar-test', 'noise'],
      default: 'model',
      help: "the generator, real test images or uniform noise:\nthe last two put the generator's numbers on a scale",
    },
    seed: { kind: 'int', min: 0, max: MAX_SEED, default: 0, help: 'latent seed' },
    truncation: {
      ...TRUNCATION_FLAG,
      help: 'sample z from N(0, I) cut at ±X: the quality/variety trade of\nBrock et al. 2019, measured',
    },
    'batch-size': { kind: 'int', min: 1, max: 4096, default: 250, help: 'images per batch' },
    json: {
      kind: 'bool',
      help: 'print one JSON line: fid, is_mean, is_std, feature_network, samples, reference\n(and truncation when set; class_fidelity and per_class for a conditional model)',
    },
    backend: BACKEND_FLAG,
  },
  async run(v) {
    const source = v.source;
    if (source === 'model' && !v.model)
      throw new UsageError('--model is required (a model folder, checkpoint or run folder)');
    if (Number.isFinite(v.truncation) && source !== 'model')
      throw new UsageError('--truncation applies to --source model only');
    const data = v.data;
    const kind = v['feature-network'];
    const generatorDir = v.model ? resolveGeneratorDir(v.model) : undefined;
    const info = await selectBackend(v.backend);
    const log = (line: string) => process.stderr.write(line + '\n');
    log(`backend: ${info.reason}`);
    const network = await loadFeatureNetwork(
      kind,
      kind === 'inception'
        ? v.inception && (/^https?:/.test(v.inception) ? v.inception : userPath(v.inception))
        : v.classifier,
    );
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
      const started = performance.now();
      const result = evaluateImages(network, reference, batches, v.samples, {
        ...(classes ? { classes } : {}),
        batchSize: v['batch-size'],
        onBatch: progress.phase(
          `features of ${v.samples} ${source === 'model' ? 'samples' : source} images`,
          v.samples,
        ),
      });
      const seconds = (performance.now() - started) / 1000;
      const truncated = Number.isFinite(v.truncation);
      const labelled = truncated ? { ...result, truncation: v.truncation } : result;
      if (v.json) process.stdout.write(JSON.stringify(labelled) + '\n');
      else
        process.stdout.write(
          [
            `FID (${network.label} features): ${result.fid.toFixed(3)}`,
            `IS (${network.label}): ${result.is_mean.toFixed(3)} ± ${result.is_std.toFixed(3)}`,
            `${v.samples} ${source === 'model' ? `samples of ${generatorDir}${truncated ? ` (z truncated at ±${v.truncation})` : ''}` : source} vs ${result.reference}; feature network ${network.id}; ${seconds.toFixed(1)} s`,
            ...classTable(result),
          ].join('\n') + '\n',
        );
      return 0;
    } finally {
      generator?.dispose();
      network.dispose();
    }
  },
});

const percent = (x: number | null) => (x === null ? '—' : `${(100 * x).toFixed(1)}%`);

/** A conditional generator's per-class lines: class, FID, class fidelity, samples. */
function classTable(r: ReturnType<typeof evaluateImages>): string[] {
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
