/**
 * A measurement's passport: everything that moves a sample-based number (FID, KID, precision,
 * recall) besides the generator itself. FID depends on the feature network, on how images are
 * resized into it (clean-fid, Parmar et al. 2022, measured several points from the resizer
 * alone), on the sample count (FID is biased in 1/n), on the reference set and split, on how
 * latents are drawn (truncation trades variety for quality), on the weights (raw or EMA) and on
 * their quantization. Two numbers compare only when every field is the same; `passportDifference`
 * names the first that is not, so a refusal can say why.
 */
export interface Passport {
  /** The feature network's id, e.g. "cifar10-classifier@133c8f4c119b" (name and weight digest). */
  feature_network: string;
  /** How images reach the network's input, e.g. "none (32×32)" or "bilinear 64→32 (half-pixel centres)". */
  resize: string;
  samples: number;
  /** The real set the numbers are against. */
  reference: PassportReference;
  /** How the samples' latents were drawn, e.g. "stream batches" (real images: "cifar10 test images in file order"). */
  latent_protocol: string;
  /** raw | ema (a generator's), none (real or noise images), or unrecorded. */
  weights: string;
  /** float32 | float16 | uint8, or none. */
  quantization: string;
}

export interface PassportReference {
  /** e.g. "cifar10", or your image set's description. */
  name: string;
  split: string;
  count: number;
  /** "sha256:…" of the reference data, or "unrecorded" (runs older than passports). */
  digest: string;
}

/** Said of a field an older record did not keep: two unrecorded fields still match each other. */
export const UNRECORDED = 'unrecorded';

/** How images of side `side` reach the feature network `networkId`'s input. */
export function resizeOf(networkId: string, side: number): string {
  if (networkId.startsWith('inception')) return `bilinear ${side}→299`;
  return side === 32 ? 'none (32×32)' : `bilinear ${side}→32 (half-pixel centres)`;
}

/**
 * The latent protocol of a generator's measurement: the stream-batches protocol (batch of images
 * start … start + n − 1 from the latent stream of seed + start), optionally truncated, and for a
 * class-conditional generator sample i in class i mod classes. The seed is not part of it: another
 * seed is another draw of the same distribution, which is what a spread or an interval is about.
 */
export function latentProtocol(truncation = Infinity, conditional = false): string {
  return `stream batches${Number.isFinite(truncation) ? `, z truncated at ±${truncation}` : ''}${conditional ? ', sample i in class i mod classes' : ''}`;
}

/**
 * A reference description as the trainer writes it beside every number,
 * "cifar10-train@sha256:1a2b…(50000)", as passport fields; anything else is kept as its name.
 */
export function referenceOf(description: string | undefined, split = 'train'): PassportReference {
  if (!description) return { name: UNRECORDED, split, count: 0, digest: UNRECORDED };
  const m = /^(.*?)@sha256:([0-9a-f]+)\((\d+)\)$/.exec(description);
  const name = m?.[1] ?? description;
  return {
    name: name.replace(/-(train|test)$/, ''),
    split,
    count: Number(m?.[3] ?? 0),
    digest: m?.[2] ? `sha256:${m[2]}` : UNRECORDED,
  };
}

/** Field paths in the order a reader checks them; the first that differs is the one named. */
const FIELDS = [
  'feature_network',
  'resize',
  'samples',
  'reference.name',
  'reference.split',
  'reference.count',
  'reference.digest',
  'latent_protocol',
  'weights',
  'quantization',
] as const;

function field(p: Passport, path: (typeof FIELDS)[number]): string | number {
  if (path.startsWith('reference.'))
    return p.reference[path.slice('reference.'.length) as keyof PassportReference];
  return p[path as Exclude<(typeof FIELDS)[number], `reference.${string}`>];
}

export interface PassportDifference {
  field: (typeof FIELDS)[number];
  a: string | number;
  b: string | number;
}

/** The first field in which two passports differ, or null when their numbers compare. */
export function passportDifference(a: Passport, b: Passport): PassportDifference | null {
  for (const f of FIELDS) {
    const [x, y] = [field(a, f), field(b, f)];
    if (x !== y) return { field: f, a: x, b: y };
  }
  return null;
}

/** "weights differ: raw vs ema", for a refusal. */
export const describeDifference = (d: PassportDifference): string =>
  `${d.field} differs: ${String(d.a)} vs ${String(d.b)}`;

/** One line for a page or a log: "classifier@…, 2,000 samples vs cifar10 train (50,000), ema float32, …". */
export function passportLine(p: Passport): string {
  const ref =
    p.reference.name === UNRECORDED
      ? 'an unrecorded reference set'
      : `${p.reference.name} ${p.reference.split} (${p.reference.count.toLocaleString('en')}${p.reference.digest === UNRECORDED ? '' : `, ${p.reference.digest}`})`;
  return `${p.feature_network} features, resize ${p.resize}, ${p.samples.toLocaleString('en')} samples vs ${ref}; ${p.latent_protocol}; ${p.weights} weights, ${p.quantization}`;
}
