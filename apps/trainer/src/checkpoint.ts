/**
 * Checkpoints: G, D (float32, with batch-norm statistics) and both Adam states, in
 * run/checkpoints/step-NNNNNNNN/. Each is written into a temp folder, fsynced, renamed into place
 * and only then named in latest.json (itself replaced atomically), so SIGKILL at any moment leaves
 * either the previous checkpoint or the new one, never a torn one. state.json is written last
 * inside the folder: a folder without it is incomplete and ignored.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';

import { createGan, type DcganConfig, type Gan, type OptimizerConfig } from '@ganstudio/models/gan';
import { artifactsToFiles, modelToArtifacts } from '@ganstudio/models/weights';
import { RunFolder } from '@ganstudio/runs/folder';
import { fsyncDir, writeFileAtomic, writeFileSyncDurable } from '@ganstudio/runs/fs-atomic';

import { UserError } from './errors';
import { loadModel, writeModelFiles } from './model-io';

export interface CheckpointState {
  /** Steps completed (the next step to run). */
  step: number;
  epoch: number;
  savedAt: string;
  /** Wall-clock seconds of training so far, across sittings. */
  trainSeconds: number;
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

export async function saveCheckpoint(
  runDir: string,
  gan: Gan,
  state: CheckpointState,
): Promise<string> {
  return saveCheckpointFolder(runDir, state, async (tmp) => {
    writeModelFiles(
      join(tmp, 'generator'),
      artifactsToFiles(await modelToArtifacts(gan.generator)),
    );
    if (gan.ema) {
      writeModelFiles(
        join(tmp, 'generator-ema'),
        artifactsToFiles(await modelToArtifacts(gan.ema.generator)),
      );
    }
    writeModelFiles(
      join(tmp, 'discriminator'),
      artifactsToFiles(await modelToArtifacts(gan.discriminator)),
    );
    await saveOptimizer(tmp, 'g', gan.gOptimizer);
    await saveOptimizer(tmp, 'd', gan.dOptimizer);
  });
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
  await opt.setWeights(
    specs.map((s) => {
      const tensor = map[s.name];
      if (!tensor) throw new Error(`${dir}: ${name}-optimizer.bin has no ${s.name}`);
      return { name: s.name, tensor };
    }),
  );
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
  const found = await loadLatestCheckpointWith<Gan, CheckpointState>(runDir, async (dir) => {
    const generator = await loadModel(join(dir, 'generator'));
    const discriminator = await loadModel(join(dir, 'discriminator'));
    // A checkpoint from before the EMA was switched on starts its average from the current G.
    const emaDir = join(dir, 'generator-ema');
    const emaGenerator =
      emaDecay !== null && existsSync(emaDir) ? await loadModel(emaDir) : undefined;
    const gan = createGan(
      config,
      optimizer,
      { generator, discriminator, ...(emaGenerator ? { emaGenerator } : {}) },
      emaDecay,
    );
    await restoreOptimizer(dir, 'g', gan.gOptimizer);
    await restoreOptimizer(dir, 'd', gan.dOptimizer);
    return gan;
  });
  return found && { gan: found.value, state: found.state, dir: found.dir, skipped: found.skipped };
}
