/**
 * DCGAN hyper-parameters (Radford, Metz & Chintala 2015, "Unsupervised Representation Learning
 * with Deep Convolutional GANs", arXiv:1511.06434): 32×32×3 (CIFAR-10) or 64×64×3 (the paper's
 * LSUN and faces architecture, its Figure 1).
 */

export type GanLoss = 'bce' | 'hinge';

export interface DcganConfig {
  /** Length of z, drawn from N(0, 1). */
  latentDim: number;
  /** Generator base width: the projected 4×4 map has 8·ngf channels. */
  ngf: number;
  /** Discriminator base width: its three convs have ndf, 2·ndf, 4·ndf channels. */
  ndf: number;
  loss: GanLoss;
  /** Seed for weight initialisation, so two runs with the same seed start identically. */
  seed: number;
  /**
   * Spectral normalisation on every D layer instead of batch norm (Miyato et al. 2018; their
   * SN-DCGAN is trained with the hinge loss). Absent or false: the paper's DCGAN discriminator.
   */
  spectralNorm?: boolean;
  /**
   * Image side: 32 (three stride-2 stages, 4 → 32; absent means 32, as every config before 64
   * existed) or 64 (four stages, 4 → 64, one more conv in each net).
   */
  resolution?: Resolution;
  /**
   * Number of classes of a class-conditional pair (absent: unconditional). G then takes the class
   * index as a second input through a learned embedding, D through projection (./dcgan).
   */
  classes?: number;
}

/** Upper bound on classes: the embeddings are dense tables, and a picker lists every class. */
export const MAX_CLASSES = 1000;

export const RESOLUTIONS = [32, 64] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

/** The image side a config builds for. */
export const imageSizeOf = (config: Pick<DcganConfig, 'resolution'>): Resolution =>
  config.resolution ?? 32;

/** CIFAR-10's image side: the classifier's input and the default resolution. */
export const IMAGE_SIZE = 32;
export const IMAGE_CHANNELS = 3;

/** CIFAR-10's classes in label order (its batches.meta.txt): the classifier's and the judge set's. */
export const CIFAR10_CLASSES = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
] as const;

export const DEFAULT_DCGAN_CONFIG: DcganConfig = {
  latentDim: 100,
  ngf: 64,
  ndf: 64,
  loss: 'bce',
  seed: 42,
};

export const GAN_LOSSES: readonly GanLoss[] = ['bce', 'hinge'];

/** Throws one readable error naming the bad field; builders call it so no model is half-built. */
export function validateDcganConfig(config: DcganConfig): DcganConfig {
  const positiveInt = (name: keyof DcganConfig, max: number) => {
    const v = config[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
      throw new RangeError(`${name} must be an integer in [1, ${max}], got ${String(v)}`);
    }
  };
  positiveInt('latentDim', 4096);
  positiveInt('ngf', 1024);
  positiveInt('ndf', 1024);
  if (!GAN_LOSSES.includes(config.loss)) {
    throw new RangeError(
      `loss must be one of ${GAN_LOSSES.join(', ')}, got ${String(config.loss)}`,
    );
  }
  if (config.spectralNorm !== undefined && typeof config.spectralNorm !== 'boolean')
    throw new RangeError(`spectralNorm must be true or false, got ${String(config.spectralNorm)}`);
  if (config.resolution !== undefined && !RESOLUTIONS.includes(config.resolution))
    throw new RangeError(
      `resolution must be one of ${RESOLUTIONS.join(', ')}, got ${String(config.resolution)}`,
    );
  if (
    config.classes !== undefined &&
    !(Number.isInteger(config.classes) && config.classes >= 2 && config.classes <= MAX_CLASSES)
  )
    throw new RangeError(
      `classes must be an integer in [2, ${MAX_CLASSES}], got ${String(config.classes)}`,
    );
  if (!Number.isInteger(config.seed))
    throw new RangeError(`seed must be an integer, got ${config.seed}`);
  return config;
}
