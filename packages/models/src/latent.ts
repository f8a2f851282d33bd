/**
 * Seeded latent vectors: the same (seed, count, dim) gives bit-identical z in Node and in the
 * browser, because it uses only integer arithmetic, Math.log and Math.sqrt (no tf.randomNormal,
 * whose stream depends on the backend). Shared sample URLs and the server's re-render rely on it.
 */
import { at } from './arrays';

/** sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, from PractRand): 128-bit state, passes BigCrush. */
export function createRng(seed: number): () => number {
  // Spread the seed into four words with splitmix32 so nearby seeds give unrelated streams.
  let s = seed >>> 0;
  const split = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split();
  let b = split();
  let c = split();
  let d = split();
  const next = () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  for (let i = 0; i < 12; i++) next(); // discard the warm-up outputs, as the reference code does
  return () => next() / 4294967296; // uniform in [0, 1)
}

/** Standard normal draws by the Marsaglia polar method (no trigonometry, so no engine-specific cos/sin). */
function normalStream(rng: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const v = spare;
      spare = undefined;
      return v;
    }
    for (;;) {
      const u = 2 * rng() - 1;
      const v = 2 * rng() - 1;
      const s = u * u + v * v;
      if (s >= 1 || s === 0) continue;
      const f = Math.sqrt((-2 * Math.log(s)) / s);
      spare = v * f;
      return u * f;
    }
  };
}

/**
 * `n` standard normal draws; with `limit`, draws beyond ±limit are replaced by the next ones from
 * the same stream (a truncated normal, the "truncation trick" of Brock et al. 2019,
 * arXiv:1809.11096 §3.1). An infinite limit keeps every draw, so the stream is the untruncated one.
 */
export function gaussianArray(rng: () => number, n: number, limit = Infinity): Float32Array {
  const next = normalStream(rng);
  const out = new Float32Array(n);
  for (let i = 0; i < n;) {
    const v = next();
    if (Math.abs(v) <= limit) out[i++] = v;
  }
  return out;
}

/** Seeds are shown to people and typed back in: unsigned 32-bit integers. */
export const MAX_SEED = 0xffffffff;

export function assertSeed(seed: number): number {
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
    throw new RangeError(`seed must be an integer in [0, ${MAX_SEED}], got ${seed}`);
  }
  return seed;
}

/** Truncation limits people may ask for: below ~0.2 every sample looks alike (and draws slow down). */
export const MIN_TRUNCATION = 0.2;

export function assertTruncation(truncation: number): number {
  if (!(truncation >= MIN_TRUNCATION))
    // also refuses NaN
    throw new RangeError(`truncation must be ≥ ${MIN_TRUNCATION} (or off), got ${truncation}`);
  return truncation;
}

/**
 * `count` latent vectors for `seed`, row-major [count, dim]. Vector i is the same whatever count
 * is. With `truncation` ψ every coordinate lies in [−ψ, ψ]: fewer odd samples, less variety.
 */
export function seededLatents(
  seed: number,
  count: number,
  dim: number,
  truncation = Infinity,
): Float32Array {
  assertSeed(seed);
  return gaussianArray(createRng(seed), count * dim, assertTruncation(truncation));
}

/** Spherical interpolation between two latents (White 2016, arXiv:1609.04468): keeps the N(0, I) norm that linear mixing shrinks. */
export function slerp(a: Float32Array, b: Float32Array, t: number): Float32Array {
  if (a.length !== b.length)
    throw new RangeError(`latent lengths differ: ${a.length} vs ${b.length}`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += at(a, i) * at(b, i);
    na += at(a, i) ** 2;
    nb += at(b, i) ** 2;
  }
  const cos = Math.min(1, Math.max(-1, dot / Math.sqrt(na * nb)));
  const omega = Math.acos(cos);
  const out = new Float32Array(a.length);
  const so = Math.sin(omega);
  // Nearly parallel vectors: slerp degenerates to lerp.
  const [wa, wb] =
    so < 1e-6 ? [1 - t, t] : [Math.sin((1 - t) * omega) / so, Math.sin(t * omega) / so];
  for (let i = 0; i < a.length; i++) out[i] = wa * at(a, i) + wb * at(b, i);
  return out;
}
