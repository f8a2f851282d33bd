/**
 * The matrix part of FID at Inception's 2048 dimensions (issue #6 target: under 10 s).
 * Run: npx tsx packages/models/bench/fid-matrix.ts [dim]
 */
import { frechetDistance, type FeatureStats } from '../src/fid';

const d = Number(process.argv[2] ?? 2048);
/** A random SPD covariance A·Aᵀ/d + 0.1·I from a simple LCG (values do not matter, timing does). */
function randomStats(seed: number): FeatureStats {
  let s = seed >>> 0;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) - 0.5;
  const a = Float64Array.from({ length: d * d }, rand);
  const cov = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let k = 0; k < d; k++) {
      const v = a[i * d + k]!;
      for (let j = 0; j <= i; j++) cov[i * d + j]! += (v * a[j * d + k]!) / d;
    }
  for (let i = 0; i < d; i++) {
    cov[i * d + i]! += 0.1;
    for (let j = 0; j < i; j++) cov[j * d + i] = cov[i * d + j]!;
  }
  return { dim: d, count: 10_000, mean: Float64Array.from({ length: d }, rand), cov };
}
const [x, y] = [randomStats(1), randomStats(2)];
const t0 = performance.now();
const { fid } = frechetDistance(x, y);
const seconds = (performance.now() - t0) / 1000;
console.log(`FID matrix part, ${d}-d: ${seconds.toFixed(2)} s (fid ${fid.toFixed(3)})`);
