/**
 * DCGAN generator and discriminator for 32×32×3 or 64×64×3 images, after Radford et al. 2015
 * (arXiv:1511.06434, §3 "Architecture guidelines"): strided convolutions instead of pooling,
 * batch norm in both nets except the generator output and discriminator input, ReLU in the
 * generator with tanh on the output, LeakyReLU(0.2) in the discriminator, weights from N(0, 0.02).
 *
 * Both are plain tf.Sequential models built from stock layers so that `model.save` writes the
 * standard TF.js layers format and stock `tf.loadLayersModel` reads it back with no project code.
 */
import * as tf from '@tensorflow/tfjs-layers';
import { IMAGE_CHANNELS, imageSizeOf, validateDcganConfig, type DcganConfig } from './config';
import { SpectralConv2D, SpectralDense } from './spectral-norm';

/** §4 of the paper: "All weights were initialized from a zero-centered Normal distribution with standard deviation 0.02". */
const INIT_STDDEV = 0.02;
/** PyTorch's BatchNorm momentum 0.1 is Keras momentum 0.9; Keras' default 0.99 lags too far behind a GAN's fast-moving activations for eval-mode sampling. */
const BN_MOMENTUM = 0.9;
/** PyTorch's default BatchNorm epsilon, as in the reference DCGAN implementation. */
const BN_EPSILON = 1e-5;
const LEAKY_SLOPE = 0.2;
const KERNEL = 4;

/**
 * Each layer gets its own seed derived from the config seed, so the nets are reproducible but not
 * correlated. Never 0: tfjs treats a falsy seed as "unseeded" and draws from Math.random.
 */
function seeded(seed: number) {
  let n = 1;
  return {
    kernel: () =>
      tf.initializers.randomNormal({ mean: 0, stddev: INIT_STDDEV, seed: seed * 1000 + n++ }),
    gamma: () =>
      tf.initializers.randomNormal({ mean: 1, stddev: INIT_STDDEV, seed: seed * 1000 + n++ }),
  };
}

function batchNorm(init: ReturnType<typeof seeded>, name: string) {
  return tf.layers.batchNormalization({
    momentum: BN_MOMENTUM,
    epsilon: BN_EPSILON,
    gammaInitializer: init.gamma(),
    name,
  });
}

/**
 * Widths of the hidden stride-2 stages, from the 4×4 map outwards: 32×32 has two before the
 * output layer, 64×64 three (the paper's Figure 1: 4×4×1024 → 8×8×512 → 16×16×256 → 32×32×128 →
 * 64×64×3 is ngf = 128).
 */
const generatorWidths = (ngf: number, size: number) =>
  size === 64 ? [ngf * 4, ngf * 2, ngf] : [ngf * 4, ngf * 2];

/** z [batch, latentDim] → images [batch, S, S, 3] in [-1, 1], S = 32 or 64 (config.resolution). */
export function buildGenerator(config: DcganConfig): tf.Sequential {
  const { latentDim, ngf, seed } = validateDcganConfig(config);
  const size = imageSizeOf(config);
  const init = seeded(seed);
  const base = 4; // stride-2 upsamplings double it to S
  const model = tf.sequential({ name: 'generator' });
  // Projection: the paper's "first layer ... could be called fully connected ... reshaped into a 4-dimensional tensor".
  model.add(
    tf.layers.dense({
      inputShape: [latentDim],
      units: base * base * ngf * 8,
      useBias: false, // batch norm's beta makes a bias redundant
      kernelInitializer: init.kernel(),
      name: 'project',
    }),
  );
  model.add(tf.layers.reshape({ targetShape: [base, base, ngf * 8], name: 'to_map' })); // → [4, 4, 8·ngf]
  model.add(batchNorm(init, 'project_bn'));
  model.add(tf.layers.reLU({ name: 'project_relu' }));
  // → [8, 8, 4·ngf] → [16, 16, 2·ngf] (→ [32, 32, ngf] at 64)
  generatorWidths(ngf, size).forEach((filters, i) => {
    model.add(
      tf.layers.conv2dTranspose({
        filters,
        kernelSize: KERNEL,
        strides: 2,
        padding: 'same',
        useBias: false,
        kernelInitializer: init.kernel(),
        name: `up${i + 1}`,
      }),
    );
    model.add(batchNorm(init, `up${i + 1}_bn`));
    model.add(tf.layers.reLU({ name: `up${i + 1}_relu` }));
  });
  // Output: no batch norm (paper §3: it "resulted in sample oscillation and model instability"), tanh to [-1, 1].
  model.add(
    tf.layers.conv2dTranspose({
      filters: IMAGE_CHANNELS,
      kernelSize: KERNEL,
      strides: 2,
      padding: 'same',
      kernelInitializer: init.kernel(),
      activation: 'tanh',
      name: 'to_rgb',
    }),
  ); // → [S, S, 3]
  return model;
}

/** Discriminator widths, from the image inwards: one stride-2 stage per halving down to 4×4. */
const discriminatorWidths = (ndf: number, size: number) =>
  size === 64 ? [ndf, ndf * 2, ndf * 4, ndf * 8] : [ndf, ndf * 2, ndf * 4];

/**
 * Images [batch, S, S, 3] in [-1, 1] → logits [batch, 1] (no sigmoid: losses work on logits for
 * stability); the mirror image of the generator.
 */
export function buildDiscriminator(config: DcganConfig): tf.Sequential {
  const { ndf, seed } = validateDcganConfig(config);
  const size = imageSizeOf(config);
  if (config.spectralNorm) return buildSpectralDiscriminator(ndf, seed, size);
  const init = seeded(seed + 7919); // a different stream from the generator's
  const model = tf.sequential({ name: 'discriminator' });
  // 32: → [16, 16, ndf] → [8, 8, 2·ndf] → [4, 4, 4·ndf]; 64: one more, ending [4, 4, 8·ndf]
  discriminatorWidths(ndf, size).forEach((filters, i) => {
    model.add(
      tf.layers.conv2d({
        ...(i === 0 ? { inputShape: [size, size, IMAGE_CHANNELS] } : {}),
        filters,
        kernelSize: KERNEL,
        strides: 2,
        padding: 'same',
        useBias: i === 0, // later convs feed batch norm, whose beta is the bias
        kernelInitializer: init.kernel(),
        name: `down${i + 1}`,
      }),
    );
    // No batch norm on the first layer (paper §3: on the discriminator input it destabilises training).
    if (i > 0) model.add(batchNorm(init, `down${i + 1}_bn`));
    model.add(tf.layers.leakyReLU({ alpha: LEAKY_SLOPE, name: `down${i + 1}_lrelu` }));
  });
  model.add(tf.layers.flatten({ name: 'flatten' })); // → [4·4·(last width)]
  model.add(tf.layers.dense({ units: 1, kernelInitializer: init.kernel(), name: 'logit' }));
  return model;
}

/**
 * The same widths with every weight spectrally normalised and no batch norm (Miyato et al. 2018,
 * §4: SN replaces BN in D): [SN conv 4×4/2 → LeakyReLU 0.2] ×3 → flatten → SN dense → logit.
 */
function buildSpectralDiscriminator(ndf: number, seed: number, size: number): tf.Sequential {
  const model = tf.sequential({ name: 'discriminator' });
  model.add(tf.layers.inputLayer({ inputShape: [size, size, IMAGE_CHANNELS] }));
  discriminatorWidths(ndf, size).forEach((units, i) => {
    model.add(
      new SpectralConv2D({
        units,
        kernelSize: KERNEL,
        strides: 2,
        seed: seed * 1000 + 7919 + 2 * i,
        name: `down${i + 1}`,
      }),
    );
    model.add(tf.layers.leakyReLU({ alpha: LEAKY_SLOPE, name: `down${i + 1}_lrelu` }));
  });
  model.add(tf.layers.flatten({ name: 'flatten' }));
  model.add(new SpectralDense({ units: 1, seed: seed * 1000 + 7999, name: 'logit' }));
  return model;
}
