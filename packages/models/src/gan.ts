/**
 * One DCGAN training step (Radford et al. 2015, §4: Adam, lr 2e-4, β1 0.5) with the losses of
 * ./losses. Pure TF.js (no I/O): the trainer CLI, the benchmark and the tests share it, on any
 * backend. The loop that calls it lives in apps/trainer.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';

import { at } from './arrays';
import { validateDcganConfig, type DcganConfig } from './config';
import { buildDiscriminator, buildGenerator, classCountOf } from './dcgan';
import { discriminatorLoss, generatorLoss } from './losses';

export interface OptimizerConfig {
  /** Paper §4: "learning rate of 0.001 was too high, using 0.0002 instead". */
  lr: number;
  /** Paper §4: "β1 at the suggested value of 0.9 resulted in training oscillation ... reducing it to 0.5 helped". */
  beta1: number;
  beta2: number;
  /**
   * The discriminator's learning rate when it differs from G's: the two time-scale update rule
   * (TTUR, Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule Converge to a Local
   * Nash Equilibrium"; their DCGAN runs use D 4e-4, G 1e-4). Absent: `lr` for both, as the paper.
   */
  lrD?: number;
}

export const DEFAULT_OPTIMIZER: OptimizerConfig = { lr: 2e-4, beta1: 0.5, beta2: 0.999 };

/**
 * The one check of optimizer settings (Adam needs 0 < lr and β in [0, 1); a learning rate of 1
 * or more only diverges). `label` names a field in the error, e.g. as the CLI flag that set it.
 */
export function validateOptimizer(
  o: OptimizerConfig,
  label: (field: keyof OptimizerConfig) => string = (field) => field,
): OptimizerConfig {
  const open = (field: 'lr' | 'lrD', v: number | undefined) => {
    if (v !== undefined && !(v > 0 && v < 1))
      throw new RangeError(`${label(field)} must be in (0, 1), got ${v}`);
  };
  const halfOpen = (field: 'beta1' | 'beta2', v: number) => {
    if (!(v >= 0 && v < 1)) throw new RangeError(`${label(field)} must be in [0, 1), got ${v}`);
  };
  open('lr', o.lr);
  open('lrD', o.lrD);
  halfOpen('beta1', o.beta1);
  halfOpen('beta2', o.beta2);
  return o;
}

export interface Gan {
  config: DcganConfig;
  generator: LayersModel;
  discriminator: LayersModel;
  gOptimizer: tf.AdamOptimizer;
  dOptimizer: tf.AdamOptimizer;
  /**
   * Exponential moving average of the generator's weights, for sampling only (Yazici et al. 2019,
   * "The Unusual Effectiveness of Averaging in GAN Training", arXiv:1806.04498). Absent when the
   * recipe has no EMA.
   */
  ema?: { generator: LayersModel; decay: number };
}

/** Plain numbers for logging (paper-style D(x) and D(G(z)) are mean sigmoid outputs). */
export interface StepMetrics {
  dLoss: number;
  gLoss: number;
  dReal: number;
  dFake: number;
}

export function createGan(
  config: DcganConfig,
  optimizer: OptimizerConfig = DEFAULT_OPTIMIZER,
  models?: { generator: LayersModel; discriminator: LayersModel; emaGenerator?: LayersModel },
  emaDecay: number | null = null,
): Gan {
  validateDcganConfig(config);
  const { lr, beta1, beta2 } = optimizer;
  validateOptimizer(optimizer);
  const lrD = optimizer.lrD ?? lr;
  if (emaDecay !== null && !(emaDecay > 0 && emaDecay < 1))
    throw new RangeError(`ema decay must be in (0, 1), got ${emaDecay}`);
  const generator = models?.generator ?? buildGenerator(config);
  let ema: Gan['ema'];
  if (emaDecay !== null) {
    let emaGenerator = models?.emaGenerator;
    if (!emaGenerator) {
      // Starts as an exact copy of G (same seed builds the same weights, then copy to be safe on resume).
      emaGenerator = buildGenerator(config);
      emaGenerator.setWeights(generator.getWeights());
    }
    ema = { generator: emaGenerator, decay: emaDecay };
  }
  return {
    config,
    generator,
    ema,
    discriminator: models?.discriminator ?? buildDiscriminator(config),
    // ε = 1e-8 as PyTorch's Adam, so numbers compare with the PyTorch DCGAN reference.
    gOptimizer: tf.train.adam(lr, beta1, beta2, 1e-8),
    dOptimizer: tf.train.adam(lrD, beta1, beta2, 1e-8),
  };
}

/** The parts of tfjs's AdamOptimizer that its public API does not restore faithfully. */
interface AdamInternals {
  beta1: number;
  beta2: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  iterations: number;
}

/**
 * β^(t+1) as Adam's bias correction holds it after t updates (Kingma & Ba 2015, Algorithm 1):
 * tfjs starts at β and multiplies by β once per update in float32, so the value is that chain of
 * correctly rounded float32 products, which every backend (cpu, wasm, webgpu) computes alike.
 */
export function adamBetaPower(beta: number, updates: number): number {
  const b = Math.fround(beta);
  let acc = b;
  for (let i = 0; i < updates; i++) acc = Math.fround(acc * b);
  return acc;
}

/**
 * Loads saved Adam state (iteration count first, then first and second moments in variable order,
 * as `getWeights` wrote them). tfjs's own setWeights rebuilds β1^t and β2^t with pow(), which for
 * β2 = 0.999 differs from the running product in the last bits: enough to change the first
 * update after a resume (g_loss 0.92281347 vs 0.92281282 one step later). This puts the running
 * product back, so a resumed run takes the very update the uninterrupted one took.
 */
export async function restoreAdam(
  opt: tf.AdamOptimizer,
  weights: Parameters<tf.AdamOptimizer['setWeights']>[0],
  /** 'pow' keeps tfjs's own rebuild: only to replay a run whose history was resumed that way. */
  betaPowers: 'replayed' | 'pow' = 'replayed',
): Promise<void> {
  await opt.setWeights(weights);
  if (betaPowers === 'pow') return;
  const adam = opt as unknown as AdamInternals;
  const updates = adam.iterations;
  tf.tidy(() => {
    adam.accBeta1.assign(tf.scalar(adamBetaPower(adam.beta1, updates)));
    adam.accBeta2.assign(tf.scalar(adamBetaPower(adam.beta2, updates)));
  });
}

/** The model's trainable tf.Variables, in the layer order that optimizer state is saved in. */
export function trainableVariables(model: LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

/** Per-step noise seed: distinct per step and run, so a resumed run draws exactly what it would have. */
export function stepSeed(runSeed: number, step: number): number {
  return (
    ((Math.imul(runSeed ^ 0x5bd1e995, 0x27d4eb2d) + Math.imul(step, 0x9e3779b1)) >>> 0) % 2147483647
  );
}

/**
 * One discriminator update then one generator update on `real` ([batch, S, S, 3] in [-1, 1]).
 * A class-conditional pair also takes the real images' classes `labels` ([batch, 1], float32
 * indices); the fakes' classes are drawn uniformly from the same seed as their z, and D sees
 * each image with its class (Miyato & Koyama 2018, projection: real (x, y), fake (G(z, y'), y')).
 * Owns every tensor it makes: tf.memory().numTensors is the same before and after it settles.
 */
export async function trainStep(
  gan: Gan,
  real: tf.Tensor4D,
  noiseSeed: number,
  labels?: tf.Tensor2D,
): Promise<StepMetrics> {
  const { generator: G, discriminator: D, config } = gan;
  const batch = real.shape[0];
  const classes = config.classes ?? 0;
  if (classes > 0 !== (labels !== undefined))
    throw new Error(
      classes
        ? `a conditional GAN needs the batch's classes`
        : 'classes given to an unconditional GAN',
    );
  const dVars = trainableVariables(D);
  const gVars = trainableVariables(G);
  const stats = tf.tidy(() => {
    // + 1: tfjs treats seed 0 as "unseeded" and would draw from Math.random.
    const seed = (noiseSeed % 2147483646) + 1;
    const z = tf.randomNormal([batch, config.latentDim], 0, 1, 'float32', seed); // → [batch, latentDim]
    // → [batch, 1]: uniform class indices, as floats (the embedding layers cast to int32)
    const fakeLabels = classes
      ? tf.floor(tf.randomUniform([batch, 1], 0, classes, 'float32', seed ^ 0x2545f491))
      : undefined;
    const gIn = fakeLabels ? [z, fakeLabels] : z;
    const dIn = (images: tf.Tensor, y?: tf.Tensor) => (y ? [images, y] : images);
    // Made outside the tape: the D update must not backpropagate into G (PyTorch's fake.detach()).
    const fake = G.apply(gIn, { training: true }) as tf.Tensor4D;
    let dReal: tf.Scalar | undefined;
    let dFake: tf.Scalar | undefined;
    const dLoss = gan.dOptimizer.minimize(
      () => {
        const realLogits = D.apply(dIn(real, labels), { training: true }) as tf.Tensor2D; // → [batch, 1]
        const fakeLogits = D.apply(dIn(fake, fakeLabels), { training: true }) as tf.Tensor2D;
        dReal = tf.keep(tf.mean<tf.Scalar>(tf.sigmoid(realLogits)));
        dFake = tf.keep(tf.mean<tf.Scalar>(tf.sigmoid(fakeLogits)));
        return discriminatorLoss(config.loss, realLogits, fakeLogits);
      },
      true,
      dVars,
    );
    // The G update sees the freshly updated D, as in Goodfellow et al. 2014, Algorithm 1.
    const gLoss = gan.gOptimizer.minimize(
      () =>
        generatorLoss(
          config.loss,
          D.apply(dIn(G.apply(gIn, { training: true }) as tf.Tensor, fakeLabels), {
            training: true,
          }) as tf.Tensor,
        ),
      true,
      gVars,
    );
    if (!dLoss || !gLoss || !dReal || !dFake) throw new Error('optimizer returned no loss');
    const packed = tf.stack([dLoss, gLoss, dReal, dFake]);
    dReal.dispose();
    dFake.dispose();
    return packed;
  });
  // One asynchronous read of the four numbers: a GPU backend (WebGPU) has no synchronous one in
  // Node, and on wasm and cpu the promise is already settled.
  const v = await stats.data().finally(() => stats.dispose());
  return { dLoss: at(v, 0), gLoss: at(v, 1), dReal: at(v, 2), dFake: at(v, 3) };
}

/**
 * ema ← d·ema + (1 − d)·w for every generator weight, batch-norm moving statistics included (they
 * are already averages, so averaging them again keeps them consistent with the averaged kernels).
 * d ramps up as min(decay, (1 + step) / (10 + step)), as tf.train.ExponentialMovingAverage's
 * num_updates, so the first epoch's average is not dominated by the random initialisation.
 */
export function updateEma(gan: Gan, step: number): void {
  if (!gan.ema) return;
  const d = Math.min(gan.ema.decay, (1 + step) / (10 + step));
  const source = gan.generator.weights;
  const target = gan.ema.generator.weights;
  tf.tidy(() => {
    target.forEach((t, i) => {
      const w = at(source, i).read();
      const v = t.read();
      t.write(tf.add(tf.mul(v, d), tf.mul(w, 1 - d)));
    });
  });
}

/** The generator to sample from: the averaged one when the recipe keeps an EMA. */
export function samplingGenerator(gan: Gan): LayersModel {
  return gan.ema?.generator ?? gan.generator;
}

/**
 * Eval-mode samples (batch norm uses its moving statistics): z [n, latentDim] → [n, S, S, 3].
 * A conditional generator needs `classes`, one index per row of z.
 */
export function generate(
  generator: LayersModel,
  z: tf.Tensor2D,
  classes?: ArrayLike<number>,
): tf.Tensor4D {
  const count = classCountOf(generator);
  if (!count) {
    if (classes) throw new Error('this generator is unconditional: it takes no class');
    return tf.tidy(() => generator.apply(z, { training: false }) as tf.Tensor4D);
  }
  if (!classes || classes.length !== z.shape[0])
    throw new Error(`this generator is conditional: give one class per sample (0–${count - 1})`);
  for (let i = 0; i < classes.length; i++) {
    const c = at(classes, i);
    if (!(Number.isInteger(c) && c >= 0 && c < count))
      throw new RangeError(`class ${c} is not one of 0–${count - 1}`);
  }
  return tf.tidy(() => {
    const y = tf.tensor2d(Float32Array.from(classes), [classes.length, 1]); // → [n, 1]
    return generator.apply([z, y], { training: false }) as tf.Tensor4D;
  });
}

export function disposeGan(gan: Gan): void {
  gan.generator.dispose();
  gan.ema?.generator.dispose();
  gan.discriminator.dispose();
  gan.gOptimizer.dispose();
  gan.dOptimizer.dispose();
}
