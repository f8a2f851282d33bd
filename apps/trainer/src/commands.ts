/** Subcommand definitions: flag parsing and validation, then a call into the library modules. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DEFAULT_CLASSIFIER_CONFIG } from '@ganstudio/models/eval';
import {
  DEFAULT_DCGAN_CONFIG,
  DEFAULT_OPTIMIZER,
  GAN_LOSSES,
  MAX_SEED,
  MIN_TRUNCATION,
  type GanLoss,
} from '@ganstudio/models/gan';
import { QUANTIZATIONS, type Quantization } from '@ganstudio/models/weights';
import { BACKENDS, selectBackend, type BackendChoice } from './backend';
import { bundleRun, type WeightsChoice } from './bundle';
import { benchInProcess, formatBenchTable, parseExternal, runBench, type BenchPlan } from './bench';
import { ensureOfficialCifar10, loadCifar10 } from './cifar';
import { trainClassifier, type ClassifierRunConfig } from './classifier-train';
import { doctor, formatChecks } from './doctor';
import {
  cifarBatches,
  evaluateImages,
  FEATURE_NETWORKS,
  generatorBatches,
  loadFeatureNetwork,
  noiseBatches,
  referenceStats,
} from './evaluate';
import { materializeCarriedRun } from './carry';
import { UserError } from './errors';
import { writeFileAtomic } from '@ganstudio/runs/fs-atomic';
import { RUN_FORMAT } from '@ganstudio/runs/folder';
import { loadModel, MODEL_JSON, saveModel } from './model-io';
import { Progress } from './progress';
import { writeRealSet } from './real-set';
import { sampleGridPng } from './sampling';
import { readRunConfig } from './sitting';
import { DEFAULT_EMA_DECAY, train, type RunConfig } from './train';

export interface Command {
  summary: string;
  help: string;
  run(args: string[]): Promise<number>;
}

/** Root scripts run inside the workspace folder (via turbo and npm); GANSTUDIO_CWD, set by the root script, is where the user typed the command. */
export function userPath(p: string): string {
  return isAbsolute(p) ? p : resolve(process.env['GANSTUDIO_CWD'] || process.cwd(), p);
}

function parse<T extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: T,
  positionals = false,
) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: positionals });
  } catch (err) {
    throw new UserError((err as Error).message.replace(/\. To specify.*$/s, ''), 2);
  }
}

function num(
  flag: string,
  value: string | undefined,
  fallback: number,
  { integer = false, min = -Infinity, max = Infinity } = {},
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (
    value.trim() === '' ||
    !Number.isFinite(n) ||
    (integer && !Number.isInteger(n)) ||
    n < min ||
    n > max
  ) {
    const range =
      `${min === -Infinity ? '' : `≥ ${min}`}${max === Infinity ? '' : ` ≤ ${max}`}`.trim();
    throw new UserError(
      `--${flag} must be ${integer ? 'an integer' : 'a number'}${range ? ` ${range}` : ''}, got "${value}"`,
      2,
    );
  }
  return n;
}

function oneOf<T extends string>(
  flag: string,
  value: string | undefined,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value))
    throw new UserError(`--${flag} must be one of ${allowed.join(', ')}, got "${value}"`, 2);
  return value as T;
}

/** Flags of both training commands (train, train-classifier). */
const RUN_FLAGS = {
  data: { type: 'string' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  lr: { type: 'string' },
  seed: { type: 'string' },
  out: { type: 'string' },
  resume: { type: 'boolean' },
  backend: { type: 'string' },
  limit: { type: 'string' },
  'max-steps': { type: 'string' },
} as const;

/** --out (default runs/<prefix>-<date>-<time>), --limit and --max-steps, checked as both trainers need. */
function runFlags(
  v: { out?: string; resume?: boolean; limit?: string; 'max-steps'?: string; backend?: string },
  prefix: string,
) {
  if (v.resume && !v.out) throw new UserError('--resume needs --out <run folder>', 2);
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const int = { integer: true, min: 1 };
  const maxSteps =
    v['max-steps'] === undefined ? undefined : num('max-steps', v['max-steps'], 0, int);
  return {
    limit: v.limit === undefined ? null : num('limit', v.limit, 0, int),
    /** What train() and trainClassifier() take besides the recipe. */
    sitting: {
      out: userPath(v.out ?? join('runs', `${prefix}-${stamp}`)),
      resume: Boolean(v.resume),
      backend: oneOf<BackendChoice>('backend', v.backend, BACKENDS, 'auto'),
      ...(maxSteps === undefined ? {} : { maxSteps }),
    },
  };
}

function reportSitting(
  r: {
    finished: boolean;
    finalStep: number;
    totalSteps: number;
    backend: { resolved: string };
    exportDir?: string;
    exportBytes?: number;
    finalFid?: { fid: number; samples: number; feature_network: string };
    bestFid?: { fid: number; samples: number; feature_network: string; epoch: number };
  },
  out: string,
  command = 'train',
): number {
  const lines = [
    `${r.finished ? 'finished' : 'stopped'} at step ${r.finalStep}/${r.totalSteps} on ${r.backend.resolved}`,
    `  run folder:  ${out}`,
  ];
  if (r.bestFid)
    lines.push(
      `  best FID:    ${r.bestFid.fid.toFixed(3)} at epoch ${r.bestFid.epoch} (${r.bestFid.feature_network} features, ${r.bestFid.samples} samples; generator-best/)`,
    );
  if (r.finalFid)
    lines.push(
      `  final FID:   ${r.finalFid.fid.toFixed(3)} (${r.finalFid.feature_network} features, ${r.finalFid.samples} samples)`,
    );
  if (r.exportDir)
    lines.push(
      `  generator:   ${r.exportDir} (uint8, ${((r.exportBytes ?? 0) / 2 ** 20).toFixed(2)} MiB)`,
      '  next:',
      `    npx ganstudio sample --model ${out} --seed 7 --out grid.png`,
      `    npx ganstudio publish ${out}`,
    );
  if (!r.finished) lines.push(`  continue:    npx ganstudio ${command} --resume --out ${out}`);
  process.stderr.write(lines.join('\n') + '\n');
  return 0;
}

const TRAIN_HELP = `usage: ganstudio train [flags]

Trains a DCGAN on CIFAR-10 and writes a run folder (config.json, metrics.jsonl,
samples/epoch-NNNN.png, checkpoints/, generator-uint8/).

  --data PATH             cifar-10-binary.tar.gz or its extracted folder
                          (default: download the official file once into ~/.cache/gan-studio, checksum-verified)
  --epochs N              passes over the data (default 25)
  --batch-size N          images per step (default 64)
  --lr X                  Adam learning rate (default 0.0002, DCGAN paper)
  --lr-d X                the discriminator's own learning rate: TTUR (Heusel et al. 2017; their
                          DCGAN uses --lr 0.0001 --lr-d 0.0004). Default: --lr for both
  --beta1 X               Adam beta1 (default 0.5, DCGAN paper)
  --ngf N / --ndf N       generator / discriminator base width (default 64 / 64)
  --latent-dim N          length of z (default 100)
  --loss bce|hinge        GAN loss (default bce: non-saturating)
  --spectral-norm         spectral normalisation on every D layer instead of batch norm (Miyato
                          et al. 2018; their SN-DCGAN pairs it with --loss hinge)
  --ema X                 keep an exponential moving average of G's weights with this decay
                          and sample/export from it (default 0.999; 0 turns it off)
  --seed N                weights, data order, noise and the sample grid (default 42)
  --out DIR               run folder (default runs/run-<date>-<time>)
  --sample-every N        sample grid every N epochs (default 1)
  --fid-every N           classifier FID into metrics.jsonl every N epochs, keeping the best
                          generator in generator-best/ (default 1; 0 turns it off)
  --fid-samples N         samples per periodic FID (default 2000)
  --fid-final-samples N   samples for the FID at the end of the run (default: --fid-samples,
                          or 10000 once the run sees a full CIFAR-10 epoch of 50,000 images)
  --fid-classifier PATH   feature network (default: the shipped CIFAR-10 classifier)
  --checkpoint-every N    checkpoint every N steps as well as every epoch end (default 500)
  --log-every N           metrics line every N steps (default 10)
  --resume                continue the run in --out from its last checkpoint
  --resume-from DIR       continue the run carried in DIR (a bundle with state/, e.g.
                          apps/web/bundled/default-run) in a new --out folder, on any machine:
                          same recipe, metrics and grids; Adam moments restart. Needs --epochs
                          (the epoch to train to) and --data unless the bundle's path exists here
  --backend NAME          ${BACKENDS.join('|')} (default auto)
  --limit N               train on the first N images only (smoke runs)
  --max-steps N           stop after N steps in this sitting (resumable)`;

const train_: Command = {
  summary: 'train a DCGAN on CIFAR-10 into a run folder',
  help: TRAIN_HELP,
  async run(args) {
    const { values: v } = parse(args, {
      ...RUN_FLAGS,
      beta1: { type: 'string' },
      ngf: { type: 'string' },
      ndf: { type: 'string' },
      'latent-dim': { type: 'string' },
      loss: { type: 'string' },
      ema: { type: 'string' },
      'fid-every': { type: 'string' },
      'fid-samples': { type: 'string' },
      'fid-final-samples': { type: 'string' },
      'fid-classifier': { type: 'string' },
      'sample-every': { type: 'string' },
      'checkpoint-every': { type: 'string' },
      'log-every': { type: 'string' },
      'resume-from': { type: 'string' },
      'lr-d': { type: 'string' },
      'spectral-norm': { type: 'boolean' },
    });
    const int = { integer: true, min: 1 };
    if (v['resume-from'] && v.resume)
      throw new UserError(
        '--resume continues a run folder, --resume-from a carried state: pass one',
        2,
      );
    if (v['resume-from'] && v.epochs === undefined)
      throw new UserError(
        '--resume-from needs --epochs N: the epoch to train the carried run to',
        2,
      );
    const seed = num('seed', v.seed, DEFAULT_DCGAN_CONFIG.seed, {
      integer: true,
      min: 0,
      max: MAX_SEED,
    });
    const { limit, sitting } = runFlags(v, 'run');
    const config: RunConfig = {
      version: RUN_FORMAT,
      data: '', // resolved below, once every flag has been checked (a typo must not start a 170 MB download)
      limit,
      epochs: num('epochs', v.epochs, 25, int),
      batchSize: num('batch-size', v['batch-size'], 64, { integer: true, min: 1, max: 4096 }),
      optimizer: {
        ...DEFAULT_OPTIMIZER,
        lr: num('lr', v.lr, DEFAULT_OPTIMIZER.lr),
        beta1: num('beta1', v.beta1, DEFAULT_OPTIMIZER.beta1),
        ...(v['lr-d'] === undefined ? {} : { lrD: num('lr-d', v['lr-d'], 0) }),
      },
      model: {
        latentDim: num('latent-dim', v['latent-dim'], DEFAULT_DCGAN_CONFIG.latentDim, {
          integer: true,
          min: 1,
          max: 4096,
        }),
        ngf: num('ngf', v.ngf, DEFAULT_DCGAN_CONFIG.ngf, { integer: true, min: 1, max: 1024 }),
        ndf: num('ndf', v.ndf, DEFAULT_DCGAN_CONFIG.ndf, { integer: true, min: 1, max: 1024 }),
        loss: oneOf<GanLoss>('loss', v.loss, GAN_LOSSES, DEFAULT_DCGAN_CONFIG.loss),
        seed,
        ...(v['spectral-norm'] ? { spectralNorm: true } : {}),
      },
      sampleEvery: num('sample-every', v['sample-every'], 1, int),
      checkpointEvery: num('checkpoint-every', v['checkpoint-every'], 500, int),
      logEvery: num('log-every', v['log-every'], 10, int),
      sampleSeed: seed,
      sampleCount: 64,
      ema: ((d) => (d === 0 ? null : d))(
        num('ema', v.ema, DEFAULT_EMA_DECAY, { min: 0, max: 0.999999 }),
      ),
      fid: {
        every: num('fid-every', v['fid-every'], 1, { integer: true, min: 0 }),
        samples: num('fid-samples', v['fid-samples'], 2000, {
          integer: true,
          min: 2,
          max: 1_000_000,
        }),
        // null: proportionate to the run (finalFidSamples), decided when its length is known.
        finalSamples:
          v['fid-final-samples'] === undefined
            ? null
            : num('fid-final-samples', v['fid-final-samples'], 0, {
                integer: true,
                min: 2,
                max: 1_000_000,
              }),
        classifier: v['fid-classifier'] ? userPath(v['fid-classifier']) : null,
      },
    };
    const from = v['resume-from'] ? userPath(v['resume-from']) : undefined;
    const carriedData = from ? readRunConfig<RunConfig>(from, '--resume-from').data : '';
    config.data = v.data
      ? userPath(v.data)
      : v.resume
        ? ''
        : from && carriedData && existsSync(carriedData)
          ? carriedData
          : await ensureOfficialCifar10((l) => process.stderr.write(l + '\n'));
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
};

/** A model folder, or a run folder (its exported generator, else its newest checkpoint's generator). */
export function resolveGeneratorDir(path: string): string {
  if (!existsSync(path)) throw new UserError(`${path}: no such file or directory`);
  if (!statSync(path).isDirectory() || existsSync(join(path, MODEL_JSON))) return path;
  if (existsSync(join(path, 'generator', MODEL_JSON))) return join(path, 'generator'); // a checkpoint folder
  const ckpts = join(path, 'checkpoints');
  if (existsSync(ckpts)) {
    const newest = readdirSync(ckpts)
      .filter((e) => /^step-\d{8}$/.test(e) && existsSync(join(ckpts, e, 'state.json')))
      .sort()
      .pop();
    if (newest) return join(ckpts, newest, 'generator');
  }
  if (existsSync(join(path, 'generator-uint8', MODEL_JSON))) return join(path, 'generator-uint8');
  throw new UserError(`${path}: no model.json, checkpoint or exported generator found`);
}

const sample: Command = {
  summary: 'write a PNG grid of samples from a saved generator and a seed',
  help: `usage: ganstudio sample --model PATH [flags]

  --model PATH     a model folder (model.json + weights.bin), a checkpoint or a run folder
  --seed N         latent seed, 0…${MAX_SEED} (default 0); the same seed gives the same grid here and in the gallery
  --count N        images in the grid (default 64)
  --scale N        integer pixel upscaling, crisp (default 2)
  --truncation X   draw z from N(0, I) cut at ±X (≥ ${MIN_TRUNCATION}): cleaner, less varied samples (default off)
  --out FILE       PNG to write (default samples-<seed>.png)
  --backend NAME   ${BACKENDS.join('|')} (default auto)`,
  async run(args) {
    const { values: v } = parse(args, {
      model: { type: 'string' },
      seed: { type: 'string' },
      count: { type: 'string' },
      scale: { type: 'string' },
      truncation: { type: 'string' },
      out: { type: 'string' },
      backend: { type: 'string' },
    });
    if (!v.model)
      throw new UserError('--model is required (a model folder, checkpoint or run folder)', 2);
    const seed = num('seed', v.seed, 0, { integer: true, min: 0, max: MAX_SEED });
    const count = num('count', v.count, 64, { integer: true, min: 1, max: 1024 });
    const scale = num('scale', v.scale, 2, { integer: true, min: 1, max: 16 });
    const truncation = num('truncation', v.truncation, Infinity, { min: MIN_TRUNCATION });
    const out = userPath(v.out ?? `samples-${seed}.png`);
    await selectBackend(oneOf<BackendChoice>('backend', v.backend, BACKENDS, 'auto'));
    const generator = await loadModel(resolveGeneratorDir(userPath(v.model)));
    try {
      writeFileAtomic(out, await sampleGridPng(generator, seed, count, scale, truncation));
    } finally {
      generator.dispose();
    }
    process.stderr.write(`wrote ${count} samples (seed ${seed}) to ${out}\n`);
    return 0;
  },
};

const export_: Command = {
  summary: 'export a generator (checkpoint or run) as a quantized TF.js layers model',
  help: `usage: ganstudio export --model PATH --out DIR [flags]

  --model PATH          a run folder, checkpoint folder or model folder
  --out DIR             folder for model.json + weights.bin (loadable by stock tf.loadLayersModel)
  --quantization Q      ${QUANTIZATIONS.join('|')} (default uint8)`,
  async run(args) {
    const { values: v } = parse(args, {
      model: { type: 'string' },
      out: { type: 'string' },
      quantization: { type: 'string' },
    });
    if (!v.model || !v.out) throw new UserError('--model and --out are required', 2);
    const quantization = oneOf<Quantization>(
      'quantization',
      v.quantization,
      QUANTIZATIONS,
      'uint8',
    );
    await selectBackend('cpu');
    const source = resolveGeneratorDir(userPath(v.model));
    const generator = await loadModel(source);
    const out = userPath(v.out);
    try {
      const files = await saveModel(generator, out, quantization, { source, quantization });
      process.stderr.write(
        `wrote ${quantization} generator (${files.weights.byteLength} bytes of weights) to ${out}\n`,
      );
    } finally {
      generator.dispose();
    }
    return 0;
  },
};

const bench: Command = {
  summary: 'benchmark training speed of every backend that loads (and external commands)',
  help: `usage: ganstudio bench [flags]

Trains the default DCGAN on random batches for a fixed number of steps on each backend, each in
its own process, and prints a table: backend, threads, images/s (median of timed windows after
warm-up), peak RSS, ratio to the cpu backend.

  --backends LIST          comma-separated (default tensorflow-gpu,tensorflow,wasm,cpu)
  --wasm-threads LIST      thread counts to run wasm with (default ${availableParallelism()},1)
  --batch-size N           (default 64)   --ngf N / --ndf N (default 64)
  --warmup N               untimed steps first (default 2)
  --windows N              timed windows (default 5)
  --steps-per-window N     (default 3)
  --cpu-warmup N / --cpu-windows N / --cpu-steps-per-window N
                           the same for the pure JS cpu backend, ~0.08 images/s at the defaults
                           (default 0 / 1 / 1: one step takes over ten minutes)
  --external NAME=COMMAND  also run COMMAND (sh -c) and read its "images/s: N" lines; repeatable`,
  async run(args) {
    const { values: v } = parse(args, {
      child: { type: 'boolean' },
      backend: { type: 'string' },
      backends: { type: 'string' },
      'wasm-threads': { type: 'string' },
      'batch-size': { type: 'string' },
      ngf: { type: 'string' },
      ndf: { type: 'string' },
      warmup: { type: 'string' },
      windows: { type: 'string' },
      'steps-per-window': { type: 'string' },
      'cpu-warmup': { type: 'string' },
      'cpu-windows': { type: 'string' },
      'cpu-steps-per-window': { type: 'string' },
      external: { type: 'string', multiple: true },
    });
    const pos = { integer: true, min: 1 };
    const batchSize = num('batch-size', v['batch-size'], 64, { integer: true, min: 1, max: 4096 });
    const model = {
      ...DEFAULT_DCGAN_CONFIG,
      ngf: num('ngf', v.ngf, 64, pos),
      ndf: num('ndf', v.ndf, 64, pos),
    };
    if (v.child) {
      const row = await benchInProcess({
        backend: oneOf<BackendChoice>('backend', v.backend, BACKENDS, 'auto'),
        batchSize,
        model,
        warmup: num('warmup', v.warmup, 2, { integer: true, min: 0 }),
        windows: num('windows', v.windows, 5, pos),
        stepsPerWindow: num('steps-per-window', v['steps-per-window'], 3, pos),
      });
      process.stdout.write(JSON.stringify(row) + '\n');
      return 0;
    }
    const backends = (v.backends ?? 'tensorflow-gpu,tensorflow,wasm,cpu')
      .split(',')
      .map((b) => oneOf<BackendChoice>('backends', b.trim(), BACKENDS, 'auto'));
    const threads = (v['wasm-threads'] ?? `${availableParallelism()},1`)
      .split(',')
      .map((t) => num('wasm-threads', t.trim(), 1, pos));
    const common = [
      '--batch-size',
      String(batchSize),
      '--ngf',
      String(model.ngf),
      '--ndf',
      String(model.ndf),
    ];
    const timing = (cpu: boolean) => [
      '--warmup',
      cpu ? (v['cpu-warmup'] ?? '0') : (v.warmup ?? '2'),
      '--windows',
      cpu ? (v['cpu-windows'] ?? '1') : (v.windows ?? '5'),
      '--steps-per-window',
      cpu ? (v['cpu-steps-per-window'] ?? '1') : (v['steps-per-window'] ?? '3'),
    ];
    const runs: BenchPlan['runs'] = [];
    for (const b of backends) {
      if (b === 'wasm') {
        for (const t of [...new Set(threads)]) {
          runs.push({
            label: 'wasm',
            args: ['--backend', 'wasm', ...common, ...timing(false)],
            env: { GANSTUDIO_WASM_THREADS: String(t) },
          });
        }
      } else {
        runs.push({ label: b, args: ['--backend', b, ...common, ...timing(b === 'cpu')], env: {} });
      }
    }
    const external = (v.external ?? []).map(parseExternal);
    const rows = await runBench({ runs, external }, (l) => process.stderr.write(l + '\n'));
    process.stdout.write(
      `DCGAN ngf=${model.ngf} ndf=${model.ndf}, batch ${batchSize}, ${availableParallelism()} cores, node ${process.version}\n\n${formatBenchTable(rows)}\n`,
    );
    return 0;
  },
};

const publish: Command = {
  summary: "upload a run's grids and quantized generator and register them in the gallery",
  help: `usage: ganstudio publish <run folder> [flags]

Uploads samples/epoch-*.png and generator-uint8/ to the blob store and registers the run (config,
grids, metric series) and the model in the database, through the same packages the gallery uses.
Targets the gallery's embedded defaults, or Postgres + Vercel Blob when DATABASE_URL and
BLOB_READ_WRITE_TOKEN are set. Stop a local gallery first: PGlite is single-process.

  --data-dir DIR   the gallery's local data folder (default apps/web/.data)
  --name TEXT      display name of the run and model
  --default        make this the gallery's default model
  --note TEXT      a line shown with the model
  --epochs LIST    also register kept epochs (all, or e.g. 1,3,5) as models of the run: each
                   epoch's generator quantized to uint8, so the judge game scores epochs
  --weights W      raw|ema for --epochs (default: ema when the run tracked one)
  --real-set DIR   register a set of real images for the judge game (ganstudio real-set); with
                   it the run folder is optional`,
  async run(args) {
    const { values: v, positionals } = parse(
      args,
      {
        'data-dir': { type: 'string' },
        name: { type: 'string' },
        default: { type: 'boolean' },
        note: { type: 'string' },
        epochs: { type: 'string' },
        weights: { type: 'string' },
        'real-set': { type: 'string' },
      },
      true,
    );
    if (positionals.length > 1 || (positionals.length === 0 && !v['real-set']))
      throw new UserError('publish takes one run folder (or --real-set DIR)', 2);
    const epochs =
      v.epochs === undefined
        ? undefined
        : v.epochs === 'all'
          ? ('all' as const)
          : v.epochs.split(',').map((e) => num('epochs', e.trim(), 1, { integer: true, min: 1 }));
    const epochWeights =
      v.weights === undefined
        ? undefined
        : oneOf<'raw' | 'ema'>('weights', v.weights, ['raw', 'ema'], 'raw');
    const dir = positionals[0] === undefined ? undefined : userPath(positionals[0]);
    const dataDir = userPath(
      v['data-dir'] ?? join(fileURLToPath(new URL('../../web/.data', import.meta.url))),
    );
    const { openDb } = await import('@ganstudio/db/client');
    const { createLocalStore } = await import('@ganstudio/storage/local');
    const { createVercelStore } = await import('@ganstudio/storage/vercel');
    const { publishEpochModels, publishRealSet, publishRunFolder, RunFolderError } =
      await import('@ganstudio/runs');
    const url = process.env['DATABASE_URL'] || undefined;
    const token = process.env['BLOB_READ_WRITE_TOKEN'] || undefined;
    const handle = await openDb({ url, dataDir: join(dataDir, 'db') });
    try {
      const store = token ? createVercelStore(token) : createLocalStore(join(dataDir, 'blobs'));
      const log = (l: string) => process.stderr.write(l + '\n');
      if (v['real-set']) {
        const r = await publishRealSet(handle.db, userPath(v['real-set']));
        log(
          `${r.inserted ? 'registered' : 'already registered:'} real set ${r.id} (${r.count} images)`,
        );
      }
      if (dir) {
        const result = await publishRunFolder(handle.db, store, dir, {
          ...(v.name ? { name: v.name } : {}),
          ...(v.note ? { note: v.note } : {}),
          isDefault: Boolean(v.default),
          log,
        });
        if (epochs)
          await publishEpochModels(handle.db, store, dir, {
            epochs,
            ...(epochWeights ? { weights: epochWeights } : {}),
            ...(v.name ? { name: v.name } : {}),
            log,
          });
        log(
          `published run ${result.runId} and model ${result.model.id} to ${url ? 'Postgres' : dataDir} + ${store.kind}`,
        );
      }
    } catch (err) {
      if (err instanceof RunFolderError) throw new UserError(err.message);
      throw err;
    } finally {
      await handle.close();
    }
    return 0;
  },
};

const doctor_: Command = {
  summary:
    'report which backends load, the CUDA/cuDNN libraries and GPU found, and how to fix what is missing',
  help: `usage: ganstudio doctor [--json]

Checks Node, the GPU (nvidia-smi), the CUDA 11.2 / cuDNN 8.1 libraries that
@tensorflow/tfjs-node-gpu 4.x needs, and each training backend, with a fix for each missing piece.
Exits 0: it is a report, not a gate (train --backend tensorflow-gpu is the gate).`,
  async run(args) {
    const { values: v } = parse(args, { json: { type: 'boolean' } });
    const checks = await doctor();
    process.stdout.write(v.json ? JSON.stringify(checks) + '\n' : formatChecks(checks) + '\n');
    return 0;
  },
};

const trainClassifier_: Command = {
  summary: 'train the CIFAR-10 classifier used as the FID/IS feature network',
  help: `usage: ganstudio train-classifier --data PATH [flags]

Trains the all-convolutional CIFAR-10 classifier whose penultimate layer and softmax give
"FID (CIFAR-10 classifier features)" and "IS (CIFAR-10 classifier)". Writes a run folder
(config.json, metrics.jsonl with test accuracy per epoch, checkpoints/, classifier-uint8/).

  --data PATH          cifar-10-binary.tar.gz or its extracted folder (train and test batches)
  --epochs N           passes over the training set (default 30)
  --batch-size N       images per step (default 128)
  --lr X               peak learning rate of the one-cycle schedule (default 0.1)
  --weight-decay X     L2 on kernels (default 0.0005)
  --width N            first-stage channels (default ${DEFAULT_CLASSIFIER_CONFIG.width})
  --seed N             weights, data order and augmentation (default ${DEFAULT_CLASSIFIER_CONFIG.seed})
  --init PATH          start from a trained classifier's weights (e.g. the shipped one) instead
                       of random ones; its width wins over --width
  --out DIR            run folder (default runs/classifier-<date>-<time>)
  --resume             continue the run in --out from its last checkpoint
  --backend NAME       ${BACKENDS.join('|')} (default auto)
  --limit N            train on the first N images only (smoke runs)
  --max-steps N        stop after N steps in this sitting (resumable)`,
  async run(args) {
    const { values: v } = parse(args, {
      ...RUN_FLAGS,
      'weight-decay': { type: 'string' },
      width: { type: 'string' },
      init: { type: 'string' },
    });
    const int = { integer: true, min: 1 };
    const { limit, sitting } = runFlags(v, 'classifier');
    if (!v.data && !v.resume) throw new UserError('--data is required (cifar-10-binary.tar.gz)', 2);
    const config: ClassifierRunConfig = {
      version: 1,
      data: v.data ? userPath(v.data) : '',
      limit,
      epochs: num('epochs', v.epochs, 30, int),
      batchSize: num('batch-size', v['batch-size'], 128, { integer: true, min: 1, max: 4096 }),
      lr: num('lr', v.lr, 0.1, { min: 1e-6, max: 10 }),
      momentum: 0.9,
      weightDecay: num('weight-decay', v['weight-decay'], 5e-4, { min: 0, max: 1 }),
      init: v.init ? userPath(v.init) : null,
      model: {
        width: num('width', v.width, DEFAULT_CLASSIFIER_CONFIG.width, {
          integer: true,
          min: 1,
          max: 512,
        }),
        seed: num('seed', v.seed, DEFAULT_CLASSIFIER_CONFIG.seed, {
          integer: true,
          min: 1,
          max: MAX_SEED,
        }),
      },
    };
    return reportSitting(
      await trainClassifier({ config, ...sitting }),
      sitting.out,
      'train-classifier',
    );
  },
};

const eval_: Command = {
  summary: 'FID and Inception Score of a generator against CIFAR-10, with a named feature network',
  help: `usage: ganstudio eval --model PATH --data PATH [flags]

Samples the generator, extracts features and reports FID (against the CIFAR-10 training set's
statistics, cached next to the dataset) and IS (10 splits, mean ± std). Every number is labelled
with the feature network it came from: numbers from different networks do not compare.

  --model PATH              generator: model folder, checkpoint or run folder
  --data PATH               cifar-10-binary.tar.gz or its folder (the reference set)
  --samples N               images to sample (default 10000; 50000 for paper-comparable FID)
  --feature-network NAME    classifier (default: the project's CIFAR-10 classifier) | inception
  --classifier PATH         another classifier model folder than the shipped one
  --inception PATH|URL      a Keras InceptionV3 converted to TF.js layers format (see README)
  --source NAME             model (default) | cifar-test (real test images) | noise (uniform noise):
                            the last two put the generator's numbers on a scale
  --seed N                  latent seed (default 0)
  --truncation X            sample z from N(0, I) cut at ±X (≥ ${MIN_TRUNCATION}; default off): the
                            quality/variety trade of Brock et al. 2019, measured
  --batch-size N            images per batch (default 250)
  --json                    print one JSON line: fid, is_mean, is_std, feature_network, samples, reference
                            (and truncation when set)
  --backend NAME            ${BACKENDS.join('|')} (default auto)`,
  async run(args) {
    const { values: v } = parse(args, {
      model: { type: 'string' },
      data: { type: 'string' },
      samples: { type: 'string' },
      'feature-network': { type: 'string' },
      classifier: { type: 'string' },
      inception: { type: 'string' },
      source: { type: 'string' },
      seed: { type: 'string' },
      truncation: { type: 'string' },
      'batch-size': { type: 'string' },
      json: { type: 'boolean' },
      backend: { type: 'string' },
    });
    const source = oneOf('source', v.source, ['model', 'cifar-test', 'noise'] as const, 'model');
    if (source === 'model' && !v.model)
      throw new UserError('--model is required (a model folder, checkpoint or run folder)', 2);
    if (!v.data)
      throw new UserError('--data is required (cifar-10-binary.tar.gz: the reference set)', 2);
    const samples = num('samples', v.samples, 10_000, { integer: true, min: 2, max: 1_000_000 });
    const seed = num('seed', v.seed, 0, { integer: true, min: 0, max: MAX_SEED });
    const truncation = num('truncation', v.truncation, Infinity, { min: MIN_TRUNCATION });
    if (v.truncation !== undefined && source !== 'model')
      throw new UserError('--truncation applies to --source model only', 2);
    const batchSize = num('batch-size', v['batch-size'], 250, { integer: true, min: 1, max: 4096 });
    const kind = oneOf('feature-network', v['feature-network'], FEATURE_NETWORKS, 'classifier');
    const backend = oneOf<BackendChoice>('backend', v.backend, BACKENDS, 'auto');
    const data = userPath(v.data);
    const generatorDir = v.model ? resolveGeneratorDir(userPath(v.model)) : undefined;
    const info = await selectBackend(backend);
    const log = (line: string) => process.stderr.write(line + '\n');
    log(`backend: ${info.reason}`);
    const network = await loadFeatureNetwork(
      kind,
      kind === 'inception'
        ? v.inception && (/^https?:/.test(v.inception) ? v.inception : userPath(v.inception))
        : v.classifier && userPath(v.classifier),
    );
    const generator = source === 'model' ? await loadModel(generatorDir!) : undefined;
    try {
      const progress = new Progress(process.stderr, batchSize);
      const reference = await referenceStats(network, data, {
        batchSize,
        log,
        progress: (total) => progress.phase('reference statistics', total),
      });
      const batches =
        source === 'model'
          ? generatorBatches(generator!, seed, truncation)
          : source === 'noise'
            ? noiseBatches(seed)
            : cifarBatches(loadCifar10(data, 'test'));
      const started = performance.now();
      const result = evaluateImages(network, reference, batches, samples, {
        batchSize,
        onBatch: progress.phase(
          `features of ${samples} ${source === 'model' ? 'samples' : source} images`,
          samples,
        ),
      });
      const seconds = (performance.now() - started) / 1000;
      const labelled = Number.isFinite(truncation) ? { ...result, truncation } : result;
      if (v.json) process.stdout.write(JSON.stringify(labelled) + '\n');
      else
        process.stdout.write(
          [
            `FID (${network.label} features): ${result.fid.toFixed(3)}`,
            `IS (${network.label}): ${result.is_mean.toFixed(3)} ± ${result.is_std.toFixed(3)}`,
            `${samples} ${source === 'model' ? `samples of ${generatorDir}${Number.isFinite(truncation) ? ` (z truncated at ±${truncation})` : ''}` : source} vs ${result.reference}; feature network ${network.id}; ${seconds.toFixed(1)} s`,
          ].join('\n') + '\n',
        );
      return 0;
    } finally {
      generator?.dispose();
      network.dispose();
    }
  },
};

const realSet: Command = {
  summary: "write a set of real CIFAR-10 test images for the gallery's judge game",
  help: `usage: ganstudio real-set --data PATH --out DIR [flags]

Chooses --count images of the CIFAR-10 test batch by a seeded permutation (never a training
image) and writes DIR/real-set.json (where they come from, their indices and classes) and
DIR/images.bin (RGB bytes). \`ganstudio publish --real-set DIR\` registers them in a gallery;
apps/web/bundled/real-set, registered on first start, is made this way.

  --data PATH    cifar-10-binary.tar.gz or its extracted folder
  --out DIR      where to write the set
  --count N      images (default 1000)
  --seed N       the permutation's seed (default 0)`,
  async run(args) {
    const { values: v } = parse(args, {
      data: { type: 'string' },
      out: { type: 'string' },
      count: { type: 'string' },
      seed: { type: 'string' },
    });
    if (!v.data) throw new UserError('--data is required (cifar-10-binary.tar.gz)', 2);
    if (!v.out) throw new UserError('--out is required', 2);
    const m = writeRealSet({
      data: userPath(v.data),
      out: userPath(v.out),
      count: num('count', v.count, 1000, { integer: true, min: 1, max: 10_000 }),
      seed: num('seed', v.seed, 0, { integer: true, min: 0, max: MAX_SEED }),
    });
    process.stderr.write(`wrote ${m.count} real images (${m.id}) to ${userPath(v.out)}\n`);
    return 0;
  },
};

const bundle: Command = {
  summary: 'trim one epoch of a run to what the gallery ships (apps/web/bundled/default-run)',
  help: `usage: ganstudio bundle <run folder> --out DIR [flags]

Writes config.json, metrics.jsonl (the step lines up to the epoch, then the FID/IS of the chosen
weights at every epoch up to it), samples/epoch-NNNN.png drawn from those weights, the uint8
generator of the epoch and card.json: a folder \`publish\` and the gallery's first start read.
A FID the run logged for the same weights is copied; others are measured with the run's protocol
(its classifier and sample count, latent seed 0), which needs the CIFAR-10 file.

  --out DIR          the bundle folder (its samples/ and generator-uint8/ are replaced)
  --epoch N          which epoch's weights ship (default: the newest kept in epochs/)
  --weights W        raw|ema (default: ema when the run tracked one, else raw)
  --data PATH        cifar-10-binary.tar.gz for FIDs to measure (default: the run's)
  --measure          measure every FID, even those the run logged
  --name TEXT        card.json: the model's display name
  --note TEXT        card.json: a line shown with the model
  --state            also write state/: G, D and the EMA at the end of that epoch in float16 (Adam
                     moments left out), replacing any earlier one, so \`train --resume-from\`
                     continues the run on another machine
  --backend NAME     ${BACKENDS.join('|')} (default auto)`,
  async run(args) {
    const { values: v, positionals } = parse(
      args,
      {
        out: { type: 'string' },
        epoch: { type: 'string' },
        weights: { type: 'string' },
        data: { type: 'string' },
        measure: { type: 'boolean' },
        name: { type: 'string' },
        note: { type: 'string' },
        backend: { type: 'string' },
        state: { type: 'boolean' },
      },
      true,
    );
    if (positionals.length !== 1) throw new UserError('bundle takes one run folder', 2);
    if (!v.out) throw new UserError('--out is required', 2);
    const epoch =
      v.epoch === undefined ? undefined : num('epoch', v.epoch, 1, { integer: true, min: 1 });
    const weights =
      v.weights === undefined
        ? undefined
        : oneOf<WeightsChoice>('weights', v.weights, ['raw', 'ema'], 'raw');
    await selectBackend(oneOf<BackendChoice>('backend', v.backend, BACKENDS, 'auto'));
    const out = userPath(v.out);
    const r = await bundleRun({
      run: userPath(positionals[0]!),
      out,
      ...(epoch ? { epoch } : {}),
      ...(weights ? { weights } : {}),
      ...(v.data ? { data: userPath(v.data) } : {}),
      measure: Boolean(v.measure),
      ...(v.name ? { name: v.name } : {}),
      ...(v.note ? { note: v.note } : {}),
      state: Boolean(v.state),
    });
    process.stderr.write(`bundled epoch ${r.epoch} (${r.weights} weights) to ${out}\n`);
    return 0;
  },
};

export const commands: Record<string, Command> = {
  eval: eval_,
  train: train_,
  'train-classifier': trainClassifier_,
  sample,
  export: export_,
  bench,
  publish,
  bundle,
  'real-set': realSet,
  doctor: doctor_,
};
