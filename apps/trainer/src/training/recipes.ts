/**
 * The trainer's defaults in one place: the recipes (widths and length), the loop's cadence and the
 * EMA decay. The networks' own defaults (DEFAULT_DCGAN_CONFIG, the paper's widths) and Adam's
 * (DEFAULT_OPTIMIZER) live with the models in @ganstudio/models, which the browser shares; a
 * recipe overrides the widths. validateRunConfig checks a run's recipe, flag by flag.
 */
import { validateDcganConfig, validateOptimizer } from '@ganstudio/models/gan';
import { type RunConfig } from '@ganstudio/runs/folder';

import { UserError } from '../errors';

/**
 * Where a run's widths and length come from unless --ngf, --ndf or --epochs say otherwise
 * (docs/training.md § Speed and § FID by wall clock).
 */
export const RECIPES = {
  // The best measured per CPU-hour, and the shipped model: DCGAN at half width, EMA FID 2.67
  // after 10 epochs (81 minutes on 2 cores) and 2.21 after 20, the epoch its best rule picked.
  narrow: { ngf: 32, ndf: 32, epochs: 20 },
  // The paper's widths (Radford et al. 2015) for the reference implementation's 25 epochs: 2.8×
  // the work per image of narrow, behind it by wall clock from epoch 2 on.
  paper: { ngf: 64, ndf: 64, epochs: 25 },
} as const;
export type RecipeName = keyof typeof RECIPES;

/** Recipe defaults that are not the model's or the optimizer's own. */
export const TRAIN_DEFAULTS = {
  recipe: 'narrow' as RecipeName,
  batchSize: 64,
  sampleEvery: 1,
  sampleCount: 64,
  checkpointEvery: 500,
  logEvery: 10,
  fidEvery: 1,
  fidSamples: 2000,
} as const;

/** Yazici et al. 2019 average with 0.999 over batch-64 steps: a window of ~1,000 steps (64k images). */
export const DEFAULT_EMA_DECAY = 0.999;

/** The CLI flag that sets each optimizer field, for error lines. */
const OPTIMIZER_FLAGS = { lr: '--lr', lrD: '--lr-d', beta1: '--beta1', beta2: 'beta2' } as const;

export function validateRunConfig(c: RunConfig): RunConfig {
  const int = (name: string, v: number, min: number) => {
    if (!Number.isInteger(v) || v < min)
      throw new UserError(`--${name} must be an integer ≥ ${min}, got ${v}`);
  };
  int('epochs', c.epochs, 1);
  int('batch-size', c.batchSize, 1);
  int('sample-every', c.sampleEvery, 1);
  int('checkpoint-every', c.checkpointEvery, 1);
  int('log-every', c.logEvery, 1);
  if (c.limit !== null) int('limit', c.limit, 1);
  try {
    validateDcganConfig(c.model);
  } catch (err) {
    throw new UserError((err as Error).message);
  }
  try {
    validateOptimizer(c.optimizer, (field) => OPTIMIZER_FLAGS[field]);
  } catch (err) {
    throw new UserError((err as Error).message);
  }
  if (c.ema != null && !(c.ema > 0 && c.ema < 1))
    throw new UserError(`--ema must be in (0, 1) or 0 for none, got ${c.ema}`);
  return c;
}
