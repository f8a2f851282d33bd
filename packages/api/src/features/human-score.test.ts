import { describe, expect, it } from 'vitest';

import { NETWORK_WEIGHT_SHARE } from '../policy';
import { cappedWeights, humanScore, type NetworkTally } from './human-score';

describe('the human score, from tallies alone', () => {
  const unit = (network: string, judgements: number, fooled: number, rn = 0, re = 0) =>
    ({ network, judgements, fooled, realJudgements: rn, realErrors: re }) satisfies NetworkTally;

  it('HYPE∞ is the error rate over real and generated images, each kind weighted equally', () => {
    // 20 of 50 samples judged real (40%), 10 of 50 real images judged generated (20%): (20 + 10) / 100.
    const s = humanScore('m', [unit('a', 25, 12, 25, 4), unit('b', 25, 8, 25, 6)]);
    expect(s.judgements).toBe(50);
    expect(s.networks).toBe(2);
    expect(s.foolRate).toBe(0.4);
    expect(s.realErrorRate).toBe(0.2);
    expect(s.hype).toBeCloseTo(0.3, 12);
    expect(humanScore('m')).toMatchObject({
      judgements: 0,
      networks: 0,
      largestShare: null,
      foolRate: null,
      ci95: null,
      hype: null,
    });
  });

  it('no network weighs more than 5% of a score from 20 networks on; below that, each weighs the same', () => {
    // 20 networks of 10 and one of 100: c = 0.05 · 200 / (1 − 0.05) = 10.526…, so the big one
    // weighs 10.526 of 210.526 (5%), the others their own 10.
    const w = cappedWeights([...Array<number>(20).fill(10), 100], NETWORK_WEIGHT_SHARE);
    expect(w.slice(0, 20)).toEqual(Array<number>(20).fill(10));
    expect(w[20]).toBeCloseTo(200 / 19, 12);
    expect(w[20]! / w.reduce((a, b) => a + b)).toBeCloseTo(0.05, 12);
    // Nobody above 5% of the pool: the weights are the counts (the pooled rate).
    expect(cappedWeights([...Array<number>(25).fill(4), 5, 0], NETWORK_WEIGHT_SHARE)).toEqual([
      ...Array<number>(25).fill(4),
      5,
      0,
    ]);
    // Two capped at once: 19 of 2 and two of 40 → c = 0.05 · 38 / 0.9 = 2.111….
    const two = cappedWeights([...Array<number>(19).fill(2), 40, 40], NETWORK_WEIGHT_SHARE);
    expect(two[19]).toBeCloseTo(38 / 18, 12);
    expect(two[20]).toBeCloseTo(38 / 18, 12);
    // 20 networks or fewer: equal weights, so one network is 1/20 of the score at most from 20 on.
    expect(cappedWeights([1, 20, 3], NETWORK_WEIGHT_SHARE)).toEqual([1, 1, 1]);
    // The score: 20 honest networks of 10 (fooled 0 times) and one of 100, fooled every time.
    const s = humanScore('m', [
      ...Array.from({ length: 20 }, (_, i) => unit(`h${i}`, 10, 0, 10, 0)),
      unit('x', 100, 100, 10, 10),
    ]);
    expect(s.foolRate).toBeCloseTo(0.05, 12);
    expect(s.largestShare).toBeCloseTo(0.05, 12);
    expect(s.judgements).toBe(300);
    expect(s.fooled).toBe(100);
  });

  it('the 95% interval is a bootstrap over networks, as computed by hand', () => {
    // Two networks of 10 judgements, fooled 2 and 6 times. Resampling two networks gives
    // {a,a} → 0.2 (p ¼), {a,b} → 0.4 (½), {b,b} → 0.6 (¼): the 2.5% and 97.5% points are 0.2 and
    // 0.6, where pooled judgements would claim Wilson's [0.22, 0.61] from 20 answers.
    const s = humanScore('m', [unit('a', 10, 2, 10, 1), unit('b', 10, 6, 10, 3)]);
    expect(s.foolRate).toBe(0.4);
    expect(s.ci95).toEqual([0.2, 0.6]);
    // HYPE∞ per resample: {a,a} (0.2 + 0.1)/2 = 0.15, {b,b} (0.6 + 0.3)/2 = 0.45.
    expect(s.hypeCi95![0]).toBeCloseTo(0.15, 12);
    expect(s.hypeCi95![1]).toBeCloseTo(0.45, 12);
    // One network: every resample is that network, so the interval is its own rate.
    expect(humanScore('m', [unit('a', 10, 3)]).ci95).toEqual([0.3, 0.3]);
    // The same tallies give the same interval on every request.
    expect(humanScore('x', [unit('a', 7, 2), unit('b', 9, 4), unit('c', 5, 5)])).toEqual(
      humanScore('x', [unit('a', 7, 2), unit('b', 9, 4), unit('c', 5, 5)]),
    );
  });
});
