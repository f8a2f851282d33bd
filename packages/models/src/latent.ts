/**
 * Seeded latent vectors: the same (seed, count, dim) gives bit-identical z in Node and in the
 * browser, because it uses only integer arithmetic, Math.log and Math.sqrt (no tf.randomNormal,
 * whose stream depends on the backend). Shared sample URLs and the server's re-render rely on it.
 */

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
export function gaussianArray(rng: () => number, n: number): Float32Array {
  const out = new Float32Array(n);
  let i = 0;
  while (i < n) {
    const u = 2 * rng() - 1;
    const v = 2 * rng() - 1;
    const s = u * u + v * v;
    if (s >= 1 || s === 0) continue;
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    out[i++] = u * f;
    if (i < n) out[i++] = v * f;
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

/** `count` latent vectors for `seed`, row-major [count, dim]. Vector i is the same whatever count is. */
export function seededLatents(seed: number, count: number, dim: number): Float32Array {
  assertSeed(seed);
  return gaussianArray(createRng(seed), count * dim);
}

/** Spherical interpolation between two latents (White 2016, arXiv:1609.04468): keeps the N(0, I) norm that linear mixing shrinks. */
export function slerp(a: Float32Array, b: Float32Array, t: number): Float32Array {
  if (a.length !== b.length)
    throw new RangeError(`latent lengths differ: ${a.length} vs ${b.length}`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  const cos = Math.min(1, Math.max(-1, dot / Math.sqrt(na * nb)));
  const omega = Math.acos(cos);
  const out = new Float32Array(a.length);
  const so = Math.sin(omega);
  // Nearly parallel vectors: slerp degenerates to lerp.
  const [wa, wb] =
    so < 1e-6 ? [1 - t, t] : [Math.sin((1 - t) * omega) / so, Math.sin(t * omega) / so];
  for (let i = 0; i < a.length; i++) out[i] = wa * a[i]! + wb * b[i]!;
  return out;
}
