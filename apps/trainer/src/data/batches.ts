/**
 * Training batches: a seeded shuffle per epoch and random horizontal flips (the only augmentation
 * DCGAN's CIFAR-10 setups use), pixels scaled from bytes to [-1, 1] to match the generator's tanh.
 * Everything is a pure function of (seed, epoch, step), so a resumed run sees the same batches.
 */
import * as tf from '@tensorflow/tfjs-core';

import { at } from '@ganstudio/models/arrays';
import { createRng } from '@ganstudio/models/gan';

import { UserError } from '../errors';
import { firstImages, sideOf, type PlanarImages } from './cifar';

export function epochPermutation(count: number, seed: number, epoch: number): Uint32Array {
  const rng = createRng((seed ^ Math.imul(epoch + 1, 0x9e3779b1)) >>> 0);
  const perm = new Uint32Array(count);
  for (let i = 0; i < count; i++) perm[i] = i;
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = at(perm, i);
    perm[i] = at(perm, j);
    perm[j] = t;
  }
  return perm;
}

/**
 * Images `indices` → NHWC float32 [n, S, S, 3] in [-1, 1]; `flips[i]` mirrors image i left–right;
 * `shifts[2i], shifts[2i+1]` move image i by (dy, dx) pixels with zero (mid-grey) fill: the
 * pad-4-and-crop augmentation of the classifier (He et al. 2016, §4.2).
 */
export function toNhwc(
  data: PlanarImages,
  indices: ArrayLike<number>,
  flips?: ArrayLike<boolean>,
  shifts?: ArrayLike<number>,
): Float32Array {
  const side = sideOf(data);
  const plane = side * side;
  const perImage = 3 * plane;
  const out = new Float32Array(indices.length * perImage);
  for (let n = 0; n < indices.length; n++) {
    const src = at(indices, n) * perImage;
    const flip = flips?.[n] ?? false;
    const dy = shifts?.[2 * n] ?? 0;
    const dx = shifts?.[2 * n + 1] ?? 0;
    const dst = n * perImage;
    for (let y = 0; y < side; y++) {
      const sy = y - dy;
      if (sy < 0 || sy >= side) continue;
      for (let x = 0; x < side; x++) {
        const fx = x - dx;
        if (fx < 0 || fx >= side) continue;
        const sx = flip ? side - 1 - fx : fx;
        const o = dst + (y * side + x) * 3;
        for (let c = 0; c < 3; c++)
          out[o + c] = at(data.pixels, src + c * plane + sy * side + sx) / 127.5 - 1;
      }
    }
  }
  return out;
}

/** A batch of `indices` as a tensor [n, S, S, 3] in [-1, 1]; the caller disposes it. */
export function batchTensor(
  data: PlanarImages,
  indices: ArrayLike<number>,
  flips?: ArrayLike<boolean>,
  shifts?: ArrayLike<number>,
): tf.Tensor4D {
  const side = sideOf(data);
  return tf.tensor4d(toNhwc(data, indices, flips, shifts), [indices.length, side, side, 3]);
}

export interface BatchPlan {
  stepsPerEpoch: number;
  /** Global step → [epoch, first index in that epoch's permutation]. */
  locate(step: number): { epoch: number; offset: number };
}

/** Drops the last partial batch of each epoch, as PyTorch's DataLoader(drop_last=True) does, so BN always sees full batches. */
export function planBatches(count: number, batchSize: number): BatchPlan {
  const stepsPerEpoch = Math.floor(count / batchSize);
  return {
    stepsPerEpoch,
    locate: (step) => ({
      epoch: Math.floor(step / stepsPerEpoch),
      offset: (step % stepsPerEpoch) * batchSize,
    }),
  };
}

export class BatchSource {
  private perm: Uint32Array | undefined;
  private permEpoch = -1;
  readonly plan: BatchPlan;

  constructor(
    private readonly data: PlanarImages,
    private readonly batchSize: number,
    private readonly seed: number,
  ) {
    this.plan = planBatches(data.count, batchSize);
  }

  private indices(step: number): Uint32Array {
    const { epoch, offset } = this.plan.locate(step);
    if (!this.perm || epoch !== this.permEpoch) {
      this.perm = epochPermutation(this.data.count, this.seed, epoch);
      this.permEpoch = epoch;
    }
    return this.perm.subarray(offset, offset + this.batchSize);
  }

  /** The batch for a global step: [batch, S, S, 3] in [-1, 1]; the caller disposes it. */
  batch(step: number): tf.Tensor4D {
    const indices = this.indices(step);
    const rng = createRng((this.seed * 31 + step * 7919 + 1) >>> 0);
    const flips = Array.from({ length: this.batchSize }, () => rng() < 0.5);
    return batchTensor(this.data, indices, flips);
  }

  /** The classes of the same step's images: [batch, 1] float32 indices; the caller disposes it. */
  labels(step: number): tf.Tensor2D {
    const indices = this.indices(step);
    return tf.tensor2d(
      Float32Array.from(indices, (i) => at(this.data.labels, i)),
      [indices.length, 1],
    );
  }
}

/** The first `limit` images (all when null); fewer than one batch is one clear error. */
export function limitData(
  full: PlanarImages,
  limit: number | null,
  batchSize: number,
): PlanarImages {
  const count = limit === null ? full.count : Math.min(limit, full.count);
  if (count < batchSize)
    throw new UserError(`only ${count} training images, fewer than --batch-size ${batchSize}`);
  return firstImages(full, count);
}
