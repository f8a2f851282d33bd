/**
 * Checkpoints: the whole training state of a GAN (see writeGanState) in
 * run/checkpoints/step-NNNNNNNN/. Each is written into a temp folder, fsynced, renamed into place
 * and only then named in latest.json (itself replaced atomically), so SIGKILL at any moment leaves
 * either the previous checkpoint or the new one, never a torn one. state.json is written last
 * inside the folder: a folder without it is incomplete and ignored.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import {
  buildDiscriminator,
  buildGenerator,
  createGan,
  restoreAdam,
  type DcganConfig,
  type Gan,
  type OptimizerConfig,
} from '@ganstudio/models/gan';
import { artifactsToFiles, modelToArtifacts } from '@ganstudio/models/weights';
import { RunFolder } from '@ganstudio/runs/folder';
import { fsyncDir, writeFileAtomic, writeFileSyncDurable } from '@ganstudio/runs/fs-atomic';

import { UserError } from '../errors';
import { loadModel, MODEL_JSON, writeModelFiles } from './model-io';

export interface CheckpointState {
  /** Steps completed (the next step to run). */
  step: number;
  epoch: number;
  savedAt: string;
  /** Wall-clock seconds of training so far, across sittings. */
  trainSeconds: number;
  /**
   * Set by hand on a checkpoint that an earlier trainer resumed with tfjs's own Adam restore
   * (β^t rebuilt with pow(), before restoreAdam replayed the running product): a retrace of such
   * a run resumes there the same way and so writes the lines that run wrote. Absent: exact.
   */
  adamBetaPowers?: 'pow';
}

const KEEP = 2;

function optimizerBytes(
  named: Awaited<ReturnType<tf.Optimizer['getWeights']>>,
): Promise<{ data: ArrayBuffer; specs: tf.io.WeightsManifestEntry[] }> {
  return tf.io
    .encodeWeights(named)
    .then(({ data, specs }) => ({ data: tf.io.CompositeArrayBuffer.join(data), specs }));
}

/**
 * Writes one checkpoint folder for `state.step` through `write(tmpDir)`, then makes it the latest:
 * shared by the GAN and the classifier trainer so both get the same crash safety.
 */
export async function saveCheckpointFolder(
  runDir: string,
  state: { step: number },
  write: (tmp: string) => Promise<void>,
): Promise<string> {
  const run = new RunFolder(runDir);
  const root = run.path('checkpoints');
  mkdirSync(root, { recursive: true });
  const final = run.checkpointDir(state.step);
  if (existsSync(join(final, 'state.json'))) return final; // already saved at this step
  const tmp = join(root, `.tmp-${basename(final)}-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  await write(tmp);
  writeFileSyncDurable(join(tmp, 'state.json'), JSON.stringify(state));
  fsyncDir(tmp);
  rmSync(final, { recursive: true, force: true }); // an incomplete folder from a crash at this step
  renameSync(tmp, final);
  fsyncDir(root);
  writeFileAtomic(
    join(root, 'latest.json'),
    JSON.stringify({ dir: basename(final), step: state.step }),
  );
  pruneCheckpoints(run, state.step);
  return final;
}

export async function saveOptimizer(dir: string, name: string, opt: tf.Optimizer): Promise<void> {
  const weights = await opt.getWeights();
  const { data, specs } = await optimizerBytes(weights);
  // getWeights makes a fresh scalar for the iteration count; the rest are the optimizer's own variables.
  weights.filter((w) => w.name === 'iter').forEach((w) => w.tensor.dispose());
  writeFileSyncDurable(join(dir, `${name}-optimizer.bin`), new Uint8Array(data));
  writeFileSyncDurable(join(dir, `${name}-optimizer.json`), JSON.stringify(specs));
}

/** The networks of a GAN's training state, as folders; the EMA only when the recipe keeps one. */
const NETS = ['generator', 'discriminator', 'generator-ema'] as const;
type Net = (typeof NETS)[number];
const OPTIMIZERS = { g: 'gOptimizer', d: 'dOptimizer' } as const;

/**
 * Everything the next step depends on, bit for bit: G, D and the EMA in float32 with their
 * batch-norm moving statistics (and spectral norm's u vectors), and both Adam states (iteration
 * count, first and second moments). The data order and the noise are functions of (seed, step),
 * so with state.json's step this is the whole of a run's position. One layout for checkpoints,
 * epoch folders and carried states, so each can stand in for the others.
 */
export async function writeGanState(dir: string, gan: Gan): Promise<void> {
  const nets: Record<Net, tfl.LayersModel | undefined> = {
    generator: gan.generator,
    discriminator: gan.discriminator,
    'generator-ema': gan.ema?.generator,
  };
  for (const net of NETS) {
    const model = nets[net];
    if (model) writeModelFiles(join(dir, net), artifactsToFiles(await modelToArtifacts(model)));
  }
  for (const [name, key] of Object.entries(OPTIMIZERS)) await saveOptimizer(dir, name, gan[key]);
}

/** Whether `dir` holds optimizer state (carried states before format 2 and old epoch folders do not). */
export const hasOptimizerState = (dir: string) =>
  Object.keys(OPTIMIZERS).every((name) => existsSync(join(dir, `${name}-optimizer.bin`)));

/**
 * The GAN of a state folder written by writeGanState, checked net by net against the recipe (a
 * state of another recipe is one clear error, not a shape error deep inside the first step).
 * Without optimizer files (`optimizers: false`) Adam starts afresh.
 */
export async function readGanState(
  dir: string,
  model: DcganConfig,
  optimizer: OptimizerConfig,
  emaDecay: number | null,
  options: { optimizers: boolean; betaPowers?: CheckpointState['adamBetaPowers'] } = {
    optimizers: true,
  },
): Promise<Gan> {
  const loaded: Partial<Record<Net, tfl.LayersModel>> = {};
  const dispose = () => Object.values(loaded).forEach((m) => m.dispose());
  try {
    for (const net of NETS) {
      // A state from before the EMA was switched on starts its average from the current G.
      if (net === 'generator-ema' && (emaDecay === null || !existsSync(join(dir, net, MODEL_JSON))))
        continue;
      const m = await loadModel(join(dir, net)).catch((err: unknown) => {
        throw new UserError(
          `${join(dir, net)}: cannot load (${(err as Error).message.replace(/^.*?cannot load model: /, '')})`,
        );
      });
      loaded[net] = m;
      const expected = net === 'discriminator' ? buildDiscriminator(model) : buildGenerator(model);
      try {
        const want = expected.getWeights().map((w) => w.shape.join('×'));
        const got = m.getWeights().map((w) => w.shape.join('×'));
        const i = want.findIndex((shape, k) => shape !== got[k]);
        if (i >= 0 || want.length !== got.length)
          throw new UserError(
            `${join(dir, net)}: does not fit the run's recipe (ngf ${model.ngf}, ndf ${model.ndf}, latent ${model.latentDim}): weight ${i >= 0 ? i : want.length} is ${got[i] ?? 'missing'}, expected ${want[i] ?? 'none'}`,
          );
      } finally {
        expected.dispose();
      }
    }
  } catch (err) {
    dispose();
    throw err;
  }
  const { generator, discriminator } = loaded;
  if (!generator || !discriminator) throw new UserError(`${dir}: no generator or discriminator`);
  const ema = loaded['generator-ema'];
  const gan = createGan(
    model,
    optimizer,
    { generator, discriminator, ...(ema ? { emaGenerator: ema } : {}) },
    emaDecay,
  );
  if (options.optimizers)
    for (const [name, key] of Object.entries(OPTIMIZERS))
      await restoreOptimizer(dir, name, gan[key], options.betaPowers);
  return gan;
}

export async function saveCheckpoint(
  runDir: string,
  gan: Gan,
  state: CheckpointState,
): Promise<string> {
  return saveCheckpointFolder(runDir, state, (tmp) => writeGanState(tmp, gan));
}

function pruneCheckpoints(run: RunFolder, newest: number): void {
  const root = run.path('checkpoints');
  const steps = newestFirst(run).filter((s) => s <= newest);
  for (const s of steps.slice(KEEP)) rmSync(run.checkpointDir(s), { recursive: true, force: true });
  // Temp folders of processes that died mid-write.
  for (const entry of readdirSync(root)) {
    if (entry.startsWith('.tmp-') && !entry.endsWith(`-${process.pid}`))
      rmSync(join(root, entry), { recursive: true, force: true });
  }
}

/** Complete checkpoints, newest first. */
const newestFirst = (run: RunFolder) => run.checkpointSteps().reverse();

export async function restoreOptimizer(
  dir: string,
  name: string,
  opt: tf.Optimizer,
  betaPowers: CheckpointState['adamBetaPowers'] = undefined,
): Promise<void> {
  const specs = JSON.parse(
    readFileSync(join(dir, `${name}-optimizer.json`), 'utf8'),
  ) as tf.io.WeightsManifestEntry[];
  const bytes = readFileSync(join(dir, `${name}-optimizer.bin`));
  const map = tf.io.decodeWeights(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    specs,
  );
  // Adam keeps its slots by position (variable order), so keep the saved order.
  const weights = specs.map((s) => {
    const tensor = map[s.name];
    if (!tensor) throw new Error(`${dir}: ${name}-optimizer.bin has no ${s.name}`);
    return { name: s.name, tensor };
  });
  if (opt instanceof tf.AdamOptimizer) await restoreAdam(opt, weights, betaPowers ?? 'replayed');
  else await opt.setWeights(weights);
}

export interface LoadedCheckpoint {
  gan: Gan;
  state: CheckpointState;
  dir: string;
  /** Newer checkpoints that could not be read, and why (reported, then skipped). */
  skipped: string[];
}

/** The newest checkpoint that `load` accepts; a damaged newer one is skipped with a reason rather than aborting. */
export async function loadLatestCheckpointWith<T, S extends { step: number }>(
  runDir: string,
  load: (dir: string, state: S) => Promise<T>,
): Promise<{ value: T; state: S; dir: string; skipped: string[] } | undefined> {
  const run = new RunFolder(runDir);
  const root = run.path('checkpoints');
  const skipped: string[] = [];
  for (const step of newestFirst(run)) {
    const dir = run.checkpointDir(step);
    try {
      const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as S;
      if (state.step !== step) throw new Error(`state.json says step ${state.step}`);
      return { value: await load(dir, state), state, dir, skipped };
    } catch (err) {
      skipped.push(`${dir}: ${(err as Error).message}`);
    }
  }
  if (skipped.length)
    throw new UserError(`no loadable checkpoint in ${root}: ${skipped.join('; ')}`);
  return undefined;
}

export async function loadLatestCheckpoint(
  runDir: string,
  config: DcganConfig,
  optimizer: OptimizerConfig,
  emaDecay: number | null = null,
): Promise<LoadedCheckpoint | undefined> {
  const found = await loadLatestCheckpointWith<Gan, CheckpointState>(runDir, (dir, state) =>
    readGanState(dir, config, optimizer, emaDecay, {
      optimizers: true,
      betaPowers: state.adamBetaPowers,
    }),
  );
  return found && { gan: found.value, state: found.state, dir: found.dir, skipped: found.skipped };
}
