/**
 * One epoch of a finished or stopped run, trimmed to what the gallery ships and uploads
 * (packages/bundled/default-run is made this way):
 *   config.json, metrics.jsonl (step lines up to that epoch + FID/IS of the shipped weights at
 *   every epoch up to it), samples/epoch-NNNN.png from those weights, generator-uint8/, card.json.
 * The weights come from run/epochs/epoch-NNNN/{generator,generator-ema} (train keeps every epoch).
 * A FID the run logged for the same weights and protocol is copied; any other is measured with the
 * run's protocol (its classifier, its sample count, latent seed 0), so the curve describes one set
 * of weights — the training log of an EMA run measures the EMA, which may not be what ships.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';

import { at } from '@ganstudio/models/arrays';
import { imageSizeOf } from '@ganstudio/models/gan';
import { passportOf } from '@ganstudio/models/measurement';
import {
  isMeasurement,
  isScale,
  isStep,
  RUN_FORMAT,
  RunFolder,
  withoutMachinePaths,
  type MetricRecord,
  type RunConfig,
} from '@ganstudio/runs/folder';
import { writeFileAtomic } from '@ganstudio/runs/fs-atomic';

import { UserError } from '../errors';
import { evaluateGenerator, fidelityTargets, type EvalResult } from '../measure/evaluate';
import { loadFeatureNetwork } from '../measure/features';
import { referenceCount, referenceStats } from '../measure/reference';
import { writeCarriedState } from './carry';
import { hasOptimizerState, type CheckpointState } from './checkpoint';
import { loadModel, MODEL_JSON, saveModel } from './model-io';
import { sampleGridPng } from './sampling';
import { readRunConfig } from './sitting';

export type WeightsChoice = 'raw' | 'ema';

export interface BundleOptions {
  run: string;
  out: string;
  /** 1-based; default: the run's newest kept epoch. */
  epoch?: number;
  /** Default: what the run sampled (the EMA when it tracked one). */
  weights?: WeightsChoice;
  /** CIFAR-10 for FIDs the run did not log (default: the run's own data path). */
  data?: string;
  /** Measure every FID, even those the run logged (a check that the protocol repeats). */
  measure?: boolean;
  name?: string;
  note?: string;
  /** Also write state/: the run's carried state at the end of that epoch (train --carry-from). */
  carry?: boolean;
  log?: (line: string) => void;
}

export interface BundleResult {
  epoch: number;
  weights: WeightsChoice;
  /** Bytes of the carried state's weights, when written. */
  stateBytes?: number;
  fids: (EvalResult & { epoch: number; step: number; measured: boolean })[];
}

export async function bundleRun(o: BundleOptions): Promise<BundleResult> {
  const target = new RunFolder(o.out);
  const source = new RunFolder(o.run);
  const log = o.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const config = readRunConfig<RunConfig>(o.run, 'bundle');
  const runWeights: WeightsChoice = config.ema ? 'ema' : 'raw';
  const weights = o.weights ?? runWeights;
  const kept = source.keptEpochs();
  const epoch = o.epoch ?? Math.max(0, ...kept);
  if (epoch < 1) throw new UserError(`${o.run}: no finished epoch kept in epochs/`);
  const generatorDir = (e: number) =>
    source.epochDir(e, weights === 'ema' ? 'generator-ema' : 'generator');
  const metrics = source.readMetrics();
  // The last step line of each epoch is its final step.
  const steps = metrics.filter(isStep).filter((m) => m.epoch <= epoch);
  const endStep = (e: number) =>
    Math.max(0, ...steps.filter((m) => m.epoch === e).map((m) => m.step));
  const samples = config.fid?.samples || 2000;
  const logged = new Map<number, MetricRecord>();
  for (const m of metrics.filter(isMeasurement))
    if (
      m.samples === samples &&
      (m.weights ?? runWeights) === weights &&
      // The trainer's own lines (float32), not a measurement of an export appended since.
      m.passport.quantization === 'float32'
    )
      logged.set(m.epoch, m);
  // A run carried from this very bundle (train --carry-from) holds no generators of the epochs
  // before the carry: their grids stay as the bundle has them, their FIDs as the run logged them
  // (none where it logged none). The shipped epoch itself needs its generator.
  const missing = Array.from({ length: epoch }, (_, i) => i + 1).filter(
    (e) => !existsSync(join(generatorDir(e), MODEL_JSON)),
  );
  const carried = new Set(
    o.measure ? [] : missing.filter((e) => e < epoch && existsSync(target.epochGrid(e))),
  );
  const lost = missing.filter((e) => !carried.has(e));
  if (lost.length)
    throw new UserError(
      `${o.run}: no ${weights} generator kept for epoch ${lost.join(', ')} (${lost.map(generatorDir).join(', ')})${weights === 'ema' && !config.ema ? '; this run tracked no EMA' : ''}`,
    );

  const fids: BundleResult['fids'] = [];
  let measure: ((g: tfl.LayersModel) => Promise<EvalResult>) | undefined;
  let dispose = () => {};
  try {
    // Grids of a previous bundle with more epochs would otherwise outlive it.
    mkdirSync(target.path('samples'), { recursive: true });
    const keep = new Set([...carried].map((e) => basename(target.epochGrid(e))));
    for (const f of readdirSync(target.path('samples')))
      if (!keep.has(f)) rmSync(target.path('samples', f), { force: true });
    for (let e = 1; e <= epoch; e++) {
      if (carried.has(e)) {
        const kept = logged.get(e);
        if (kept)
          fids.push({
            ...(kept as unknown as EvalResult),
            epoch: e,
            step: kept.step,
            measured: false,
          });
        log(
          `epoch ${e} (${weights}): ${kept ? `FID ${(kept as unknown as EvalResult).fid.toFixed(3)}` : 'no FID logged'} (its grid and line as carried)`,
        );
        continue;
      }
      const generator = await loadModel(generatorDir(e));
      try {
        writeFileAtomic(
          target.epochGrid(e),
          await sampleGridPng(generator, config.sampleSeed, config.sampleCount),
        );
        const line = o.measure ? undefined : logged.get(e);
        if (line) {
          fids.push({
            ...(line as unknown as EvalResult),
            epoch: e,
            step: line.step,
            measured: false,
          });
        } else {
          if (!measure) {
            const data = o.data ?? config.data;
            if (!data || !existsSync(data))
              throw new UserError(
                `the FID of epoch ${e}'s ${weights} weights is not in the run's log: measuring it needs CIFAR-10 (--data; the run's ${data || '(none)'} is not there)`,
              );
            const network = await loadFeatureNetwork(
              'classifier',
              config.fid?.classifier ?? undefined,
            );
            dispose = () => network.dispose();
            const reference = await referenceStats(network, data, {
              log,
              resolution: imageSizeOf(config.model),
              ...referenceCount(config.limit),
            });
            const names = config.classNames;
            // Measured here as the trainer would have: float32 weights, stream batches.
            const passport = passportOf(
              network.id,
              imageSizeOf(config.model),
              samples,
              reference.description,
              { generator: { conditional: Boolean(names), weights, quantization: 'float32' } },
            );
            measure = async (g) => ({
              ...(await evaluateGenerator(network, reference, g, samples, {
                ...(names ? { classes: { names, targets: fidelityTargets(network, names) } } : {}),
              })),
              passport,
            });
          }
          fids.push({ ...(await measure(generator)), epoch: e, step: endStep(e), measured: true });
        }
        const f = at(fids, fids.length - 1);
        log(
          `epoch ${e} (${weights}): FID ${f.fid.toFixed(3)} (${f.feature_network} features, ${f.samples} samples, ${f.measured ? 'measured' : 'from the run'})`,
        );
        if (e === epoch) {
          rmSync(target.path('export'), { recursive: true, force: true });
          await saveModel(generator, target.path('export'), 'uint8', {
            run: basename(o.run),
            epoch,
            step: endStep(epoch),
            quantization: 'uint8',
            weights,
            ...(config.classNames ? { classes: config.classNames } : {}),
          });
        }
      } finally {
        generator.dispose();
      }
    }
  } finally {
    dispose();
  }

  // A bundle is shipped and committed: its recipe names its data, never where it lay.
  target.writeConfig(withoutMachinePaths({ ...config, version: RUN_FORMAT, epochs: epoch }));
  const fidLines = fids.map((f) => ({
    type: 'fid',
    step: f.step,
    epoch: f.epoch,
    fid: f.fid,
    is_mean: f.is_mean,
    is_std: f.is_std,
    samples: f.samples,
    feature_network: f.feature_network,
    reference: f.reference,
    weights,
    ...(f.class_fidelity === undefined ? {} : { class_fidelity: f.class_fidelity }),
    // What the run's log measured beside FID is carried as logged.
    ...(f.kid === undefined
      ? {}
      : { kid: f.kid, kid_std: f.kid_std, precision: f.precision, recall: f.recall }),
    ...(f.copies === undefined || f.copies === null ? {} : { copies: f.copies }),
    ...(f.passport ? { passport: f.passport } : {}),
  }));
  // Each FID line follows the last step line of its epoch, as the trainer writes them.
  // The run's floor and ceiling, when they were measured on the passport of these weights.
  const scales = metrics.filter(isScale).filter((m) => m.passport.weights === weights);
  const lines = [...scales, ...steps, ...fidLines].sort(
    (a, b) => a.step - b.step || (a.type === 'fid' ? 1 : -1),
  );
  target.writeMetrics(withoutMachinePaths(lines));
  if (o.name || o.note)
    writeFileAtomic(
      target.path('card'),
      JSON.stringify(
        { ...(o.name ? { name: o.name } : {}), ...(o.note ? { note: o.note } : {}) },
        null,
        2,
      ) + '\n',
    );
  const stateBytes = o.carry ? carryEpoch(o.run, config, epoch, o.out, log) : undefined;
  return { epoch, weights, fids, ...(stateBytes === undefined ? {} : { stateBytes }) };
}

/**
 * The run's training state at the end of `epoch`, from epochs/epoch-NNNN/ (runs since 2026-12-06
 * keep the whole state there) or else from the checkpoint the trainer wrote at that step, if it
 * has not been pruned.
 */
function carryEpoch(
  run: string,
  config: RunConfig,
  epoch: number,
  out: string,
  log: (line: string) => void,
): number {
  const folder = new RunFolder(run);
  const stepsPerEpoch = Math.floor((config.limit ?? 50_000) / config.batchSize);
  const step = epoch * stepsPerEpoch;
  const dir = [folder.epochDir(epoch), folder.checkpointDir(step)].find(hasOptimizerState);
  if (!dir)
    throw new UserError(
      `${run}: --carry needs epoch ${epoch}'s whole training state: neither ${folder.epochDir(epoch)} (runs before 2026-12-06 kept no optimizer state there) nor its checkpoint (${folder.checkpointDir(step)}, pruned) has it`,
    );
  const stateFile = join(dir, 'state.json');
  const at = JSON.parse(readFileSync(stateFile, 'utf8')) as CheckpointState;
  if (at.step !== step)
    throw new UserError(`${stateFile}: step ${at.step}, but epoch ${epoch} ends at step ${step}`);
  const { bytes } = writeCarriedState(out, dir, at);
  log(
    `carried state of step ${step} (epoch ${epoch}) from ${dir}: ${(bytes / 2 ** 20).toFixed(2)} MiB (float32 nets and Adam state) in ${new RunFolder(out).path('state')}`,
  );
  return bytes;
}
