/**
 * The project's own CIFAR-10 classifier: the always-available feature network for every measurement
 * when Inception-v3 weights cannot be had. An all-convolutional net (Springenberg et al.
 * 2014, "Striving for Simplicity", arXiv:1412.6806: stride-2 convolutions instead of pooling, so
 * every op has a gradient kernel on the wasm backend) with batch norm (Ioffe & Szegedy 2015):
 *
 *   [n,32,32,3] → conv3 32 → conv3/2 64 → conv3 64 → conv3/2 128 → conv3 128 → conv3/2 256
 *   → global average pool → features [n,256] → dense → logits [n,10]
 *
 * ~34 M multiply-adds per image. Inputs are in [-1, 1], the generator's range, so generated images
 * need no conversion.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { at } from './arrays';
import { IMAGE_CHANNELS, IMAGE_SIZE } from './config';

export const CLASSIFIER_CLASSES = 10;
export const CLASSIFIER_FEATURE_LAYER = 'features';
export const CLASSIFIER_LOGITS_LAYER = 'logits';

export interface ClassifierConfig {
  /** Width of the first stage; the stages have w, 2w, 2w, 4w, 4w, 8w channels. */
  width: number;
  seed: number;
}

export const DEFAULT_CLASSIFIER_CONFIG: ClassifierConfig = { width: 32, seed: 7 };

/** Images [n,32,32,3] in [-1,1] → [features [n, 8·width], logits [n, 10]]. */
export function buildClassifier(
  config: ClassifierConfig = DEFAULT_CLASSIFIER_CONFIG,
): tfl.LayersModel {
  const { width, seed } = config;
  if (!Number.isInteger(width) || width < 1 || width > 512)
    throw new RangeError(`classifier width must be an integer in [1, 512], got ${width}`);
  let n = 1;
  // He initialisation (He et al. 2015) for ReLU nets; seeds never 0 (tfjs reads 0 as unseeded).
  const kernelInitializer = () => tfl.initializers.heNormal({ seed: seed * 1000 + n++ });
  const input = tfl.input({ shape: [IMAGE_SIZE, IMAGE_SIZE, IMAGE_CHANNELS], name: 'image' });
  let x: tfl.SymbolicTensor = input;
  const stages: [number, number][] = [
    [width, 1],
    [2 * width, 2],
    [2 * width, 1],
    [4 * width, 2],
    [4 * width, 1],
    [8 * width, 2],
  ];
  stages.forEach(([filters, strides], i) => {
    x = tfl.layers
      .conv2d({
        filters,
        kernelSize: 3,
        strides,
        padding: 'same',
        useBias: false,
        kernelInitializer: kernelInitializer(),
        name: `conv${i + 1}`,
      })
      .apply(x) as tfl.SymbolicTensor;
    x = tfl.layers
      .batchNormalization({ momentum: 0.9, epsilon: 1e-5, name: `bn${i + 1}` })
      .apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.reLU({ name: `relu${i + 1}` }).apply(x) as tfl.SymbolicTensor;
  });
  const features = tfl.layers
    .globalAveragePooling2d({ name: CLASSIFIER_FEATURE_LAYER })
    .apply(x) as tfl.SymbolicTensor;
  const logits = tfl.layers
    .dense({
      units: CLASSIFIER_CLASSES,
      kernelInitializer: tfl.initializers.glorotUniform({ seed: seed * 1000 + n++ }),
      name: CLASSIFIER_LOGITS_LAYER,
    })
    .apply(features) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: [features, logits], name: 'cifar10_classifier' });
}

export interface ClassifierStepResult {
  loss: number;
  accuracy: number;
}

/**
 * One SGD step: softmax cross-entropy with label smoothing 0.1 (Szegedy et al. 2016, §7) plus
 * L2 weight decay on conv/dense kernels. images [n,32,32,3], labels int32 [n].
 */
export async function classifierStep(
  model: tfl.LayersModel,
  optimizer: tf.Optimizer,
  images: tf.Tensor4D,
  labels: tf.Tensor1D,
  weightDecay: number,
): Promise<ClassifierStepResult> {
  const kernels = model.trainableWeights.filter((w) => w.name.includes('kernel'));
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const out = tf.tidy(() => {
    const onehot = tf.oneHot(labels, CLASSIFIER_CLASSES);
    let correct: tf.Scalar | undefined;
    const loss = optimizer.minimize(
      () => {
        const logits = at(model.apply(images, { training: true }) as tf.Tensor[], 1);
        correct = tf.keep(
          tf.sum<tf.Scalar>(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32')),
        );
        const ce = tf.losses.softmaxCrossEntropy(onehot, logits, undefined, 0.1);
        const l2 = tf.addN(kernels.map((k) => tf.sum(tf.square(k.read()))));
        return tf.add<tf.Scalar>(ce, tf.mul(l2, weightDecay / 2));
      },
      true,
      vars,
    );
    if (!loss || !correct) throw new Error('optimizer returned no loss');
    const packed = tf.stack([loss, correct]);
    correct.dispose();
    return packed;
  });
  let values: Float32Array;
  try {
    values = (await out.data()) as Float32Array;
  } finally {
    out.dispose();
  }
  return { loss: at(values, 0), accuracy: at(values, 1) / images.shape[0] };
}

/**
 * Eval-mode [features [n, d], logits [n, 10]], each the mean over the image and its mirror image
 * (horizontal-flip test-time augmentation, as in Simonyan & Zisserman 2015 §3.2): CIFAR-10's
 * classes are mirror-symmetric, training used flips, and averaging both views added 0.8 points of
 * test accuracy to the 3-epoch classifier (74.75% → 75.53%) for twice the forward passes. The
 * features used for FID are therefore mirror-invariant. The caller disposes both.
 */
export function classify(model: tfl.LayersModel, images: tf.Tensor4D): [tf.Tensor2D, tf.Tensor2D] {
  return tf.tidy(() => {
    const a = model.apply(images, { training: false }) as tf.Tensor2D[];
    const b = model.apply(tf.reverse(images, 2), { training: false }) as tf.Tensor2D[]; // NHWC: axis 2 = width
    const mean = (i: number) => tf.mul(tf.add(at(a, i), at(b, i)), 0.5);
    return [mean(0), mean(1)] as [tf.Tensor2D, tf.Tensor2D];
  });
}

/** Folded into a classifier's feature-network id: numbers from the flip-averaged protocol. */
export const CLASSIFIER_PROTOCOL = 'hflip-mean/1';
