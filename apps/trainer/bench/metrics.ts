/**
 * The FID pipeline's speed targets, measured in one run: feature extraction of 10,000 CIFAR-10 images with
 * the shipped classifier (target < 2 min with the fast backend), and the float64 matrix part of
 * FID at the classifier's 256 and Inception's 2048 dimensions (target < 10 s at 2048).
 *
 *   npx tsx apps/trainer/bench/metrics.ts --data PATH [--backend wasm] [--images 10000] [--dims 256,2048] [--kernels wasm,js]
 *
 * The matrix part runs with each kernel set in turn on the same statistics: the WebAssembly SIMD
 * kernels (the default) and the scalar JavaScript fallback, so their ratio comes from one run.
 * Then the measures on feature rows at the trainer's 2,000 samples (KID over 100 subsets of
 * 1,000, precision/recall, the copy check against all 50,000 training rows, eval --compare's 100
 * replicates), on wasm and on the pure-JS cpu backend: what onFastestBackend saves a cpu run.
 */
import { parseArgs } from 'node:util';

import {
  collectFeatures,
  compareSamples,
  copyCheck,
  frechetDistance,
  kernelInceptionDistance,
  precisionRecall,
  type FeatureRows,
  type FeatureStats,
  type FidKernels,
} from '@ganstudio/models/eval';

import { releaseBackend, selectBackend, type BackendChoice } from '../src/backend';
import { loadCifar10 } from '../src/data/cifar';
import { imageBatches, loadFeatureNetwork } from '../src/measure/features';
import { referenceRows, referenceStats } from '../src/measure/reference';

const { values: v } = parseArgs({
  options: {
    data: { type: 'string' },
    backend: { type: 'string', default: 'wasm' },
    images: { type: 'string', default: '10000' },
    dims: { type: 'string', default: '256,2048' },
    kernels: { type: 'string', default: 'wasm,js' },
    'rows-backends': { type: 'string', default: 'wasm,cpu' },
  },
});
if (!v.data) throw new Error('--data PATH is required');

/** A random SPD covariance A·Aᵀ/d + 0.1·I from an LCG: the values do not matter, the timing does. */
function randomStats(d: number, seed: number): FeatureStats {
  let s = seed >>> 0;
  const rand = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5;
  const a = Float64Array.from({ length: d * d }, rand);
  const cov = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let k = 0; k < d; k++) {
      const x = a[i * d + k]!;
      for (let j = 0; j <= i; j++) cov[i * d + j]! += (x * a[j * d + k]!) / d;
    }
  for (let i = 0; i < d; i++) {
    cov[i * d + i]! += 0.1;
    for (let j = 0; j < i; j++) cov[j * d + i] = cov[i * d + j]!;
  }
  return { dim: d, count: 10_000, mean: Float64Array.from({ length: d }, rand), cov };
}

const info = await selectBackend(v.backend as BackendChoice);
const network = await loadFeatureNetwork('classifier');
const data = loadCifar10(v.data, 'test');
const images = Number(v.images);
const t0 = performance.now();
await collectFeatures(network, images, 250, imageBatches(data));
const extract = (performance.now() - t0) / 1000;
console.log(
  `feature extraction, ${images} images, ${network.id} on ${info.resolved}: ${extract.toFixed(1)} s (${(images / extract).toFixed(0)} images/s)`,
);
// Rows: test images 0 … 1,999 stand in for samples, the first 2,000 training images are the real
// side (as in training), all 50,000 the copy check's training set.
const train = await referenceRows(network, v.data);
const reference = await referenceStats(network, v.data);
const held = await referenceRows(network, v.data, { split: 'test', count: 4000 });
const d = network.dim;
const slice = (f: FeatureRows, from: number, n: number): FeatureRows => ({
  data: f.data.subarray(from * d, (from + n) * d),
  n,
});
const [real, fake, heldOut] = [
  slice(train, 0, 2000),
  slice(held, 2000, 2000),
  slice(held, 0, 2000),
];
network.dispose();
for (const backend of v['rows-backends'].split(',') as BackendChoice[]) {
  await selectBackend(backend);
  const time = async (what: string, work: () => Promise<unknown>) => {
    const t = performance.now();
    await work();
    console.log(`${what} on ${backend}: ${((performance.now() - t) / 1000).toFixed(2)} s`);
  };
  await time('KID, 100 subsets of 1,000 (2,000 rows each side)', () =>
    kernelInceptionDistance(real, fake),
  );
  await time('precision/recall, k = 3, 2,000 rows each side', () => precisionRecall(real, fake));
  await time('copy check, 2,000 samples and 2,000 held-out vs 50,000 training rows', () =>
    copyCheck(train, heldOut, fake),
  );
  await time('eval --compare, 100 paired half-sample replicates', () =>
    compareSamples(real, reference.stats, fake, heldOut),
  );
}
releaseBackend();
for (const d of v.dims.split(',').map(Number)) {
  const [a, b] = [randomStats(d, 1), randomStats(d, 2)];
  for (const kernels of v.kernels.split(',') as FidKernels[]) {
    const t1 = performance.now();
    const { fid } = frechetDistance(a, b, 1e-6, kernels);
    console.log(
      `FID matrix part (float64), ${d}-d, ${kernels} kernels: ${((performance.now() - t1) / 1000).toFixed(2)} s (FID ${fid.toFixed(9)})`,
    );
  }
}
