/**
 * One sample-based measurement of a generator (or of real or noise images): its numbers and the
 * passport they were measured on. The one shape of a measurement everywhere: the trainer's lines
 * in metrics.jsonl, best.json, a model's own numbers in the database, the pages. Field names are
 * the run folder's (snake_case), as written since the first run.
 */
import { latentProtocol, referenceOf, resizeOf, type Passport } from './passport';

export interface Measurement {
  /** Fréchet distance of the samples' features from the reference's (Heusel et al. 2017). */
  fid: number;
  /** Inception score ± std under the same network's class probabilities (Salimans et al. 2016). */
  is_mean?: number;
  is_std?: number;
  /** Kernel inception distance ± std over 100 subsets (Bińkowski et al. 2018). */
  kid?: number;
  kid_std?: number;
  /** Improved precision and recall, k = 3, shares 0–1 (Kynkäänniemi et al. 2019). */
  precision?: number;
  recall?: number;
  /** Share of samples nearer the training set than 99% of held-out real images come. */
  copies?: number;
  /** A conditional generator's: share of samples the CIFAR-10 classifier calls their class. */
  class_fidelity?: number;
  passport: Passport;
}

/** The numbers of a Measurement, in the order a reader meets them. */
export const MEASURES = [
  'fid',
  'is_mean',
  'is_std',
  'kid',
  'kid_std',
  'precision',
  'recall',
  'copies',
  'class_fidelity',
] as const satisfies readonly (keyof Measurement)[];

/**
 * The measurement in a larger record (a metrics line, a trainer's result, a database row): its
 * numbers (absent or null ones left out) and its passport, nothing else.
 */
export function measurementOf(
  record: { fid: number; passport: Passport } & Partial<
    Record<(typeof MEASURES)[number], number | null>
  >,
): Measurement {
  const out: Partial<Record<(typeof MEASURES)[number], number>> = {};
  for (const key of MEASURES) {
    const value = record[key];
    if (typeof value === 'number') out[key] = value;
  }
  return { ...out, fid: record.fid, passport: record.passport };
}

/** A point of a run's scale: real test images (the floor) or uniform noise (the ceiling). */
export type ScalePoint = Required<
  Pick<Measurement, 'fid' | 'kid' | 'kid_std' | 'precision' | 'recall'>
>;

/**
 * The passport of a measurement by the feature network `featureNetwork` (its id) of `samples`
 * images of side `side` against `reference` (the trainer's description, "cifar10-train@sha256:…(n)"):
 * of a generator's samples (stream-batches latents, its weights and quantization), or of fixed
 * images (real or noise), named by how they were drawn.
 */
export function passportOf(
  featureNetwork: string,
  side: number,
  samples: number,
  reference: string,
  source:
    | {
        generator: {
          truncation?: number;
          conditional: boolean;
          weights: string;
          quantization: string;
        };
      }
    | { images: string },
): Passport {
  return {
    feature_network: featureNetwork,
    resize: resizeOf(featureNetwork, side),
    samples,
    reference: referenceOf(reference, /-test@/.test(reference) ? 'test' : 'train'),
    ...('generator' in source
      ? {
          latent_protocol: latentProtocol(
            source.generator.truncation,
            source.generator.conditional,
          ),
          weights: source.generator.weights,
          quantization: source.generator.quantization,
        }
      : { latent_protocol: source.images, weights: 'none', quantization: 'none' }),
  };
}
