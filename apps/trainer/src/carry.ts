/**
 * A run's carried state: what a run needs to continue on another machine, small
 * enough to commit beside the bundled run. G, D and the generator EMA (with batch-norm statistics)
 * in float16, and the step, epoch and training clock; Adam's moments are left out (they are twice
 * the weights) and restart on resume, which `train --carry-from` records as a `seam` line in
 * metrics.jsonl so curves can show where it happened.
 *
 *   <bundle>/state/state.json, generator/, discriminator/, generator-ema/   (~4× smaller than a checkpoint)
 *
 * `--carry-from <bundle>` turns it back into an ordinary checkpoint in a new run folder (fresh
 * optimizers) and resumes that, so the rest is the tested `--resume` path: the same data order and
 * noise per step, metrics cut at the state's step, grids and FID lines continuing.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';

import {
  buildDiscriminator,
  buildGenerator,
  createGan,
  disposeGan,
  type DcganConfig,
  type Gan,
  type OptimizerConfig,
} from '@ganstudio/models/gan';
import { RunFolder, type RunConfig, type SeamRecord } from '@ganstudio/runs/folder';
import { fsyncDir, writeFileAtomic } from '@ganstudio/runs/fs-atomic';

import { saveCheckpoint, type CheckpointState } from './checkpoint';
import { UserError } from './errors';
import { loadModel, MODEL_JSON, saveModel } from './model-io';
import { readRunConfig, recipeFor } from './sitting';

export const STATE_DIR = 'state';
const FORMAT = 'ganstudio-carried-state';

export interface CarriedState extends CheckpointState {
  format: typeof FORMAT;
  version: 1;
  /** What was left out, said where a reader looks. */
  optimizer: 'restarted on resume';
}

/** The three networks of a carried state, as folders of its state/ directory. */
const PARTS = ['generator', 'discriminator', 'generator-ema'] as const;
type Part = (typeof PARTS)[number];

/**
 * Writes `<out>/state/` from the given networks, replacing any earlier state as a whole (temp
 * folder, then rename): a bundle holds one state, the newest.
 */
export async function writeCarriedState(
  out: string,
  nets: { generator: tfl.LayersModel; discriminator: tfl.LayersModel; ema?: tfl.LayersModel },
  at: CheckpointState,
): Promise<{ dir: string; bytes: number }> {
  const final = join(out, STATE_DIR);
  const tmp = join(out, `.${STATE_DIR}-tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  let bytes = 0;
  const models: [Part, tfl.LayersModel | undefined][] = [
    ['generator', nets.generator],
    ['discriminator', nets.discriminator],
    ['generator-ema', nets.ema],
  ];
  for (const [part, model] of models) {
    if (!model) continue;
    const files = await saveModel(model, join(tmp, part), 'float16');
    bytes += files.weights.byteLength;
  }
  const state: CarriedState = {
    ...at,
    format: FORMAT,
    version: 1,
    optimizer: 'restarted on resume',
  };
  writeFileAtomic(join(tmp, 'state.json'), JSON.stringify(state, null, 2) + '\n');
  fsyncDir(tmp);
  rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
  fsyncDir(out);
  return { dir: final, bytes };
}

/** The carried state of a bundle, loaded and checked against the recipe it says it belongs to. */
export async function loadCarriedState(
  dir: string,
  model: DcganConfig,
  optimizer: OptimizerConfig,
  emaDecay: number | null,
): Promise<{ gan: Gan; state: CarriedState }> {
  const stateDir = join(dir, STATE_DIR);
  const path = join(stateDir, 'state.json');
  if (!existsSync(path))
    throw new UserError(
      `${dir}: no carried state (${STATE_DIR}/state.json); write one with \`ganstudio bundle … --carry\``,
    );
  let state: CarriedState;
  try {
    state = JSON.parse(readFileSync(path, 'utf8')) as CarriedState;
  } catch {
    throw new UserError(`${path}: not valid JSON`);
  }
  if (
    state.format !== FORMAT ||
    state.version !== 1 ||
    !Number.isInteger(state.step) ||
    state.step < 0
  )
    throw new UserError(
      `${path}: not a carried state this trainer reads (format ${String(state.format)}, version ${String(state.version)})`,
    );
  const loaded: Partial<Record<Part, tfl.LayersModel>> = {};
  const dispose = () => Object.values(loaded).forEach((m) => m?.dispose());
  try {
    for (const part of PARTS) {
      if (
        part === 'generator-ema' &&
        (emaDecay === null || !existsSync(join(stateDir, part, MODEL_JSON)))
      )
        continue;
      const m = await loadModel(join(stateDir, part)).catch((err: unknown) => {
        throw new UserError(
          `${join(stateDir, part)}: cannot load (${(err as Error).message.replace(/^.*?cannot load model: /, '')})`,
        );
      });
      loaded[part] = m;
      // The recipe's architecture, weight by weight: a state from another recipe is refused here,
      // not discovered as a shape error deep inside the first training step.
      const expected = part === 'discriminator' ? buildDiscriminator(model) : buildGenerator(model);
      try {
        const want = expected.getWeights().map((w) => w.shape.join('×'));
        const got = m.getWeights().map((w) => w.shape.join('×'));
        const i = want.findIndex((s, k) => s !== got[k]);
        if (i >= 0 || want.length !== got.length)
          throw new UserError(
            `${join(stateDir, part)}: does not fit the run's recipe (ngf ${model.ngf}, ndf ${model.ndf}, latent ${model.latentDim}): weight ${i >= 0 ? i : want.length} is ${got[i] ?? 'missing'}, expected ${want[i] ?? 'none'}`,
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
  if (!generator || !discriminator)
    throw new UserError(`${dir}: the carried state has no generator or discriminator`);
  const gan = createGan(
    model,
    optimizer,
    {
      generator,
      discriminator,
      ...(loaded['generator-ema'] ? { emaGenerator: loaded['generator-ema'] } : {}),
    },
    emaDecay,
  );
  return { gan, state };
}

export interface ResumeFromOptions {
  /** A bundle (or any run folder) with config.json and state/. */
  from: string;
  out: string;
  /** Train to at least this many epochs (the bundle's config says how many it had). */
  epochs?: number;
  /** CIFAR-10 on this machine (the bundle's config names the path of the machine it came from). */
  data?: string;
  log?: (line: string) => void;
}

/**
 * Makes `out` a run folder that continues the carried run: its config, its metrics up to the
 * state's step plus a `seam` line, its grids up to the state's epoch, and a checkpoint at that
 * step with fresh optimizers. Returns the recipe; the caller resumes with `--resume` semantics.
 */
export async function materializeCarriedRun(o: ResumeFromOptions): Promise<RunConfig> {
  const target = new RunFolder(o.out);
  const source = new RunFolder(o.from);
  const log = o.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const saved = readRunConfig<RunConfig>(o.from, '--carry-from');
  const config: RunConfig = {
    ...saved,
    epochs: Math.max(saved.epochs, o.epochs ?? 0),
    data: o.data ?? saved.data,
  };
  recipeFor(o.out, false, config); // refuses an out folder that already holds a run
  const { gan, state } = await loadCarriedState(
    o.from,
    config.model,
    config.optimizer,
    config.ema ?? null,
  );
  try {
    mkdirSync(target.path('samples'), { recursive: true });
    target.writeConfig(config);
    const metrics = source.readMetrics().filter((r) => r.step <= state.step);
    target.writeMetrics(metrics);
    const seam: SeamRecord = {
      type: 'seam',
      step: state.step,
      epoch: state.epoch,
      from: basename(o.from),
      optimizer: 'restarted',
      note: 'continued from a carried state: G, D and EMA weights kept (float16), Adam moments restarted',
    };
    target.appendMetric(seam);
    for (const { epoch, file } of source.sampleGrids())
      if (epoch <= state.epoch)
        copyFileSync(source.path('samples', file), target.path('samples', file));
    const { format: _f, version: _v, optimizer: _o, ...checkpointState } = state;
    await saveCheckpoint(o.out, gan, checkpointState);
  } finally {
    disposeGan(gan);
  }
  log(
    `continuing ${o.from} at step ${state.step} (epoch ${state.epoch}) in ${o.out}: weights from its carried state, Adam moments restarted`,
  );
  return config;
}
