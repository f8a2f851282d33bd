/** generator-best/: which measurement of a run takes it (takesBest). */
import { describe, expect, it } from 'vitest';

import { takesBest } from './tracker';

describe('generator-best: the spread-aware rule', () => {
  /** Replays takesBest over (epoch, KID, std) measurements; returns the best epoch after each. */
  const replay = (points: [number, number, number][]) => {
    let state: Parameters<typeof takesBest>[1] = { best: Infinity, lowest: undefined };
    let best = 0;
    return points.map(([epoch, kid, kid_std]) => {
      const rule = takesBest({ fid: kid * 100, kid, kid_std }, state);
      state = { best: rule.best ? kid * 100 : state.best, lowest: rule.lowest };
      if (rule.best) best = epoch;
      return best;
    });
  };

  it('a later epoch indistinguishable from the lowest takes the best: swings within the noise do not', () => {
    // Epoch 8 is lowest, but 9 and 10 overlap its interval: the latest of them is kept.
    expect(
      replay([
        [7, 0.012, 0.001],
        [8, 0.0105, 0.001],
        [9, 0.0115, 0.001],
        [10, 0.0112, 0.001],
      ]),
    ).toEqual([7, 8, 9, 10]);
  });

  it('a clearly worse later epoch never replaces the best, and cannot creep up step by step', () => {
    expect(
      replay([
        [1, 0.01, 0.001],
        [2, 0.0125, 0.001], // clearly worse than 1: kept 1
        [3, 0.0118, 0.001], // overlaps 1's interval: latest indistinguishable
        [4, 0.0135, 0.001], // overlaps 3 but not the lowest (epoch 1): no creep
      ]),
    ).toEqual([1, 1, 3, 3]);
  });

  it('without KID (no reference rows) the lowest FID wins', () => {
    expect(takesBest({ fid: 3 }, { best: 2.5, lowest: undefined }).best).toBe(false);
    expect(takesBest({ fid: 2 }, { best: 2.5, lowest: undefined }).best).toBe(true);
  });
});
