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

/**
 * The generator's layers from the projection to the image, in order: dense → [4, 4, 8·ngf] → BN →
 * ReLU → [8, 8, 4·ngf] → [16, 16, 2·ngf] (→ [32, 32, ngf] at 64) → tanh [S, S, 3]. `inputShape`
 * is set on the first layer when they go into a tf.Sequential.
 */
function generatorLayers(
  config: DcganConfig,
  init: ReturnType<typeof seeded>,
  inputShape?: number[],
): tf.layers.Layer[] {
  const { ngf } = config;
  const base = 4; // stride-2 upsamplings double it to S
  const layers: tf.layers.Layer[] = [
    // Projection: the paper's "first layer ... could be called fully connected ... reshaped into a 4-dimensional tensor".
    tf.layers.dense({
      ...(inputShape ? { inputShape } : {}),
      units: base * base * ngf * 8,
      useBias: false, // batch norm's beta makes a bias redundant
      kernelInitializer: init.kernel(),
      name: 'project',
    }),
    tf.layers.reshape({ targetShape: [base, base, ngf * 8], name: 'to_map' }), // → [4, 4, 8·ngf]
    batchNorm(init, 'project_bn'),
    tf.layers.reLU({ name: 'project_relu' }),
  ];
  generatorWidths(ngf, imageSizeOf(config)).forEach((filters, i) => {
    layers.push(
      tf.layers.conv2dTranspose({
        filters,
        kernelSize: KERNEL,
        strides: 2,
        padding: 'same',
        useBias: false,
        kernelInitializer: init.kernel(),
        name: `up${i + 1}`,
      }),
      batchNorm(init, `up${i + 1}_bn`),
      tf.layers.reLU({ name: `up${i + 1}_relu` }),
    );
  });
  // Output: no batch norm (paper §3: it "resulted in sample oscillation and model instability"), tanh to [-1, 1].
  layers.push(
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
  return layers;
}

/**
 * z [batch, latentDim] → images [batch, S, S, 3] in [-1, 1], S = 32 or 64 (config.resolution).
 *
 * With `config.classes` it is a two-input functional model: (z [batch, latentDim], class
 * [batch, 1] as an index, int32 or float32) → images. The class goes through a learned embedding
 * [classes, latentDim] that multiplies z elementwise before the projection, as the AC-GAN of
 * Odena et al. 2017 (arXiv:1610.09585) is built in TF.js's and Keras' own examples. The product
 * keeps z on the only path into G: with the class vector concatenated to z instead (Mirza &
 * Osindero 2014), our narrow DCGAN collapsed to one image per class within 400 steps, every z
 * drawing the same picture (docs/training.md § Class-conditional). Every layer is stock, so
 * `tf.loadLayersModel` runs the export with no project code (conditional batch norm would need a
 * custom layer).
 */
export function buildGenerator(config: DcganConfig): tf.LayersModel {
  const { latentDim, seed, classes } = validateDcganConfig(config);
  const init = seeded(seed);
  if (!classes) {
    const model = tf.sequential({ name: 'generator' });
    for (const layer of generatorLayers(config, init, [latentDim])) model.add(layer);
    return model;
  }
  const z = tf.input({ shape: [latentDim], name: 'z' });
  const label = tf.input({ shape: [1], name: 'class' });
  const body = generatorLayers(config, init);
  const embedded = tf.layers
    .embedding({
      inputDim: classes,
      outputDim: latentDim,
      // N(0, 1): z ⊙ e then has z's scale at initialisation.
      embeddingsInitializer: tf.initializers.randomNormal({
        mean: 0,
        stddev: 1,
        seed: seed * 1000 + 997,
      }),
      name: 'class_embedding',
    })
    .apply(label) as tf.SymbolicTensor; // → [batch, 1, latentDim]
  const vector = tf.layers.flatten({ name: 'class_vector' }).apply(embedded); // → [batch, latentDim]
  let h = tf.layers.multiply({ name: 'z_and_class' }).apply([z, vector as tf.SymbolicTensor]); // z ⊙ e(y)
  for (const layer of body) h = layer.apply(h);
  return tf.model({ inputs: [z, label], outputs: h as tf.SymbolicTensor, name: 'generator' });
}

/** Discriminator widths, from the image inwards: one stride-2 stage per halving down to 4×4. */
const discriminatorWidths = (ndf: number, size: number) =>
  size === 64 ? [ndf, ndf * 2, ndf * 4, ndf * 8] : [ndf, ndf * 2, ndf * 4];

/**
 * D's layers from the image to its features: [S, S, 3] → … → [4, 4, w] → flatten [16·w], where w
 * is 4·ndf at 32 and 8·ndf at 64; then its linear logit layer. With spectral norm every weight
 * is spectrally normalised and there is no batch norm (Miyato et al. 2018, §4: SN replaces BN).
 */
function discriminatorLayers(
  config: DcganConfig,
  inputShape?: number[],
): { features: tf.layers.Layer[]; logit: tf.layers.Layer } {
  const { ndf, seed } = config;
  const size = imageSizeOf(config);
  const features: tf.layers.Layer[] = [];
  if (config.spectralNorm) {
    if (inputShape) features.push(tf.layers.inputLayer({ inputShape }));
    discriminatorWidths(ndf, size).forEach((units, i) => {
      features.push(
        new SpectralConv2D({
          units,
          kernelSize: KERNEL,
          strides: 2,
          seed: seed * 1000 + 7919 + 2 * i,
          name: `down${i + 1}`,
        }),
        tf.layers.leakyReLU({ alpha: LEAKY_SLOPE, name: `down${i + 1}_lrelu` }),
      );
    });
    features.push(tf.layers.flatten({ name: 'flatten' }));
    return {
      features,
      logit: new SpectralDense({ units: 1, seed: seed * 1000 + 7999, name: 'logit' }),
    };
  }
  const init = seeded(seed + 7919); // a different stream from the generator's
  // 32: → [16, 16, ndf] → [8, 8, 2·ndf] → [4, 4, 4·ndf]; 64: one more, ending [4, 4, 8·ndf]
  discriminatorWidths(ndf, size).forEach((filters, i) => {
    features.push(
      tf.layers.conv2d({
        ...(i === 0 && inputShape ? { inputShape } : {}),
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
    if (i > 0) features.push(batchNorm(init, `down${i + 1}_bn`));
    features.push(tf.layers.leakyReLU({ alpha: LEAKY_SLOPE, name: `down${i + 1}_lrelu` }));
  });
  features.push(tf.layers.flatten({ name: 'flatten' })); // → [4·4·(last width)]
  return {
    features,
    logit: tf.layers.dense({ units: 1, kernelInitializer: init.kernel(), name: 'logit' }),
  };
}

/** Length of D's feature vector φ(x): the flattened 4×4 map of its last stage. */
export const discriminatorFeatures = (config: DcganConfig) =>
  16 * Math.max(...discriminatorWidths(config.ndf, imageSizeOf(config)));

/**
 * Images [batch, S, S, 3] in [-1, 1] → logits [batch, 1] (no sigmoid: losses work on logits for
 * stability); the mirror image of the generator.
 *
 * With `config.classes` it takes (images, class [batch, 1]) and adds the projection term of
 * Miyato & Koyama 2018 ("cGANs with Projection Discriminator", arXiv:1802.05637, eq. 3):
 * D(x, y) = ψ(φ(x)) + embed(y)ᵀ φ(x), with φ(x) the flattened features [batch, F], ψ the linear
 * logit and embed a learned table [classes, F]. The inner product is a stock `dot` layer.
 * (Their embedding is spectrally normalised too; with --spectral-norm ours is not: a stock
 * embedding keeps carried checkpoints loadable with no extra layer type.)
 */
export function buildDiscriminator(config: DcganConfig): tf.LayersModel {
  const { seed, classes } = validateDcganConfig(config);
  const size = imageSizeOf(config);
  const inputShape = [size, size, IMAGE_CHANNELS];
  if (!classes) {
    const { features, logit } = discriminatorLayers(config, inputShape);
    const model = tf.sequential({ name: 'discriminator' });
    for (const layer of [...features, logit]) model.add(layer);
    return model;
  }
  const image = tf.input({ shape: inputShape, name: 'image' });
  const label = tf.input({ shape: [1], name: 'class' });
  const { features, logit } = discriminatorLayers(config);
  let phi = image;
  for (const layer of features) phi = layer.apply(phi) as tf.SymbolicTensor; // → [batch, F]
  const psi = logit.apply(phi) as tf.SymbolicTensor; // → [batch, 1]
  const embedded = tf.layers
    .embedding({
      inputDim: classes,
      outputDim: discriminatorFeatures(config),
      embeddingsInitializer: tf.initializers.randomNormal({
        mean: 0,
        stddev: INIT_STDDEV,
        seed: seed * 1000 + 7993,
      }),
      name: 'class_projection',
    })
    .apply(label) as tf.SymbolicTensor; // → [batch, 1, F]
  const v = tf.layers
    .flatten({ name: 'class_projection_vector' })
    .apply(embedded) as tf.SymbolicTensor; // → [batch, F]
  const projection = tf.layers
    .dot({ axes: 1, name: 'projection' })
    .apply([v, phi]) as tf.SymbolicTensor; // → [batch, 1]
  const out = tf.layers
    .add({ name: 'conditional_logit' })
    .apply([psi, projection]) as tf.SymbolicTensor;
  return tf.model({ inputs: [image, label], outputs: out, name: 'discriminator' });
}

/**
 * Classes a generator (or discriminator) is conditioned on; 0 for an unconditional one. Read from
 * the model itself, so a loaded export answers without its config.
 */
export function classCountOf(model: tf.LayersModel): number {
  if (model.inputs.length < 2) return 0;
  const table = model.layers.find(
    (l) => l.name === 'class_embedding' || l.name === 'class_projection',
  );
  const count = (table?.getConfig() as { inputDim?: number } | undefined)?.inputDim;
  if (typeof count !== 'number') throw new Error('a two-input model without a class embedding');
  return count;
}
