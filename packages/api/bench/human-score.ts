/**
 * What one model's human score costs to compute (weights capped per network, 2,000 bootstrap
 * resamples), by number of networks: the leaderboard recomputes it for every judged model at most
 * once per SCORE_CACHE_MS. Prints the median of 5 runs after a warm-up.
 *
 *   npx tsx packages/api/bench/human-score.ts
 */
import { humanScore, type NetworkTally } from '../src/features/human-score';

for (const networks of [50, 500, 2000]) {
  // Networks of 1–40 judgements (the network cap), some fooled, each with a real-photo control.
  const units: NetworkTally[] = Array.from({ length: networks }, (_, i) => ({
    network: `n${i}`,
    judgements: 1 + (i % 40),
    fooled: i % 3,
    realJudgements: 10,
    realErrors: i % 2,
  }));
  humanScore('warm-up', units);
  const times = Array.from({ length: 5 }, () => {
    const t = performance.now();
    humanScore('m', units);
    return performance.now() - t;
  }).sort((a, b) => a - b);
  console.log(`${networks} networks: ${times[2]!.toFixed(0)} ms a model (median of 5)`);
}
