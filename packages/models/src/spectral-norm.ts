/**
 * Spectral normalisation for the discriminator (Miyato et al. 2018, "Spectral Normalization for
 * Generative Adversarial Networks", arXiv:1802.05957): every weight matrix W is used as W / σ(W),
 * σ the largest singular value, so each layer is 1-Lipschitz and D cannot sharpen without bound.
 * σ is estimated with one power iteration per forward pass from a persistent vector u (their
 * Algorithm 1); the gradient flows through σ = vᵀ W u with u and v held constant, as in the paper.
 *
 * Two stock-shaped layers, registered for serialisation so checkpoints load with u intact:
 * SpectralConv2D (a conv kernel [k, k, cin, cout] read as W [k·k·cin, cout]) and SpectralDense.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

const EPS = 1e-12;

const normalize = (x: tf.Tensor1D) => tf.div<tf.Tensor1D>(x, tf.add(tf.norm(x), EPS));

/** The identity with a zero gradient: tfjs has no stop_gradient op. */
const stopGradient = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
  value: tf.clone(args[0] as tf.Tensor),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
}));

/**
 * One power-iteration step on W [m, n] from u [n] (the right singular vector estimate):
 * v = W u / ‖W u‖, u' = Wᵀ v / ‖Wᵀ v‖, σ = vᵀ W u'. Returns σ (differentiable in W) and u' (a
 * constant to keep for the next step). Repeated, σ converges to the largest singular value.
 */
export function powerIteration(
  w: tf.Tensor2D,
  u: tf.Tensor1D,
): { sigma: tf.Scalar; u: tf.Tensor1D } {
  const [v, uNext] = tf.tidy(() => {
    const wc = stopGradient(w) as tf.Tensor2D;
    const v = normalize(tf.squeeze<tf.Tensor1D>(tf.matMul(wc, tf.expandDims(u, 1)), [1])); // → [m]
    const next = normalize(tf.squeeze<tf.Tensor1D>(tf.matMul(wc, tf.expandDims(v, 1), true), [1])); // → [n]
    return [v, next];
  });
  const sigma = tf.tidy(() =>
    tf.sum<tf.Scalar>(tf.mul(v, tf.squeeze(tf.matMul(w, tf.expandDims(uNext, 1)), [1]))),
  );
  v.dispose();
  return { sigma, u: uNext };
}

interface SpectralArgs {
  units: number;
  /** Conv only: square kernel size and stride, 'same' padding (the DCGAN discriminator's 4×4 / 2). */
  kernelSize?: number;
  strides?: number;
  useBias?: boolean;
  /** Seeds for the kernel (N(0, 0.02) as the DCGAN paper) and for u's start. */
  seed: number;
  name?: string;
}

abstract class SpectralLayer extends tfl.layers.Layer {
  protected readonly args: SpectralArgs;
  protected kernel!: tfl.LayerVariable;
  protected bias: tfl.LayerVariable | undefined;
  protected u!: tfl.LayerVariable;

  constructor(args: SpectralArgs) {
    super(args.name ? { name: args.name } : {});
    this.args = args;
  }

  protected addSpectralWeights(kernelShape: number[]): void {
    this.kernel = this.addWeight(
      'kernel',
      kernelShape,
      'float32',
      tfl.initializers.randomNormal({ mean: 0, stddev: 0.02, seed: this.args.seed }),
    );
    if (this.args.useBias ?? true)
      this.bias = this.addWeight('bias', [this.args.units], 'float32', tfl.initializers.zeros());
    // Not trained: the power iteration moves it (one step per training forward pass).
    this.u = this.addWeight(
      'u',
      [this.args.units],
      'float32',
      tfl.initializers.randomNormal({ mean: 0, stddev: 1, seed: this.args.seed + 1 }),
      undefined,
      false,
    );
    this.built = true;
  }

  /** The kernel divided by its spectral norm; in training, u takes its power-iteration step. */
  protected normalizedKernel(training: boolean): tf.Tensor {
    const k = this.kernel.read();
    const { sigma, u } = powerIteration(
      tf.reshape<tf.Rank.R2>(k, [-1, this.args.units]),
      this.u.read() as tf.Tensor1D,
    );
    if (training) this.u.write(u);
    u.dispose();
    return tf.div(k, sigma);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ...(this.args as unknown as tf.serialization.ConfigDict) };
  }
}

/** A known dimension of a layer's input shape (tfjs marks unknown ones, e.g. the batch, null). */
function known(dim: number | null | undefined, what: string): number {
  if (typeof dim !== 'number') throw new Error(`spectral layer: the ${what} must be known`);
  return dim;
}

export class SpectralConv2D extends SpectralLayer {
  static className = 'SpectralConv2D';

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = inputShape as tfl.Shape;
    const k = this.args.kernelSize ?? 4;
    this.addSpectralWeights([
      k,
      k,
      known(shape[shape.length - 1], 'channel count'),
      this.args.units,
    ]);
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const [b, h, w] = inputShape as tfl.Shape;
    const s = this.args.strides ?? 2;
    const side = (v: number | null | undefined) =>
      typeof v === 'number' ? Math.ceil(v / s) : null;
    return [b ?? null, side(h), side(w), this.args.units];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const s = this.args.strides ?? 2;
      const y = tf.conv2d(
        x,
        this.normalizedKernel(Boolean(kwargs['training'])) as tf.Tensor4D,
        s,
        'same',
      );
      return this.bias ? tf.add(y, this.bias.read()) : y;
    });
  }
}

export class SpectralDense extends SpectralLayer {
  static className = 'SpectralDense';

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = inputShape as tfl.Shape;
    this.addSpectralWeights([known(shape[shape.length - 1], 'feature count'), this.args.units]);
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return [(inputShape as tfl.Shape)[0] ?? null, this.args.units];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor2D;
      const y = tf.matMul(x, this.normalizedKernel(Boolean(kwargs['training'])));
      return this.bias ? tf.add(y, this.bias.read()) : y;
    });
  }
}

tf.serialization.registerClass(SpectralConv2D);
tf.serialization.registerClass(SpectralDense);
