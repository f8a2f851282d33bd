/**
 * The default generator (default-run, 20 epochs) is the previous default
 * (runs/dcgan-narrow32-e10, 10 epochs) trained on: its recipe retraced from scratch by
 * today's trainer, in sittings on several machines (carried by `bundle --carry` and
 * `train --carry-from`). Where the two runs overlap, every loss line and every FID is equal to the
 * last digit: the proof that the longer run is the earlier one continued.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { isStep, RunFolder, type RunConfig } from '@ganstudio/runs/folder';

import { bundledPath, defaultRunPath } from './index';

const shipped = new RunFolder(bundledPath('dcgan-narrow32-e10'));
const retrace = new RunFolder(defaultRunPath());

/** What a step line says of the run, without the machine's speed. */
const stepsOf = (run: RunFolder) =>
  new Map(
    run
      .readMetrics()
      .filter(isStep)
      .map((r) => [r.step, [r.d_loss, r.g_loss, r.d_x, r.d_g_z]]),
  );
/** The trainer's own FID of each epoch (float32 weights), not a measurement of an export. */
const fidsOf = (run: RunFolder) =>
  new Map(
    run
      .readMetrics()
      .filter(
        (r) =>
          r.type === 'fid' &&
          (r as { passport?: { quantization?: string } }).passport?.quantization !== 'uint8',
      )
      .map((r) => [r.epoch, (r as { fid?: number }).fid]),
  );

describe('the default run, a retrace of the previous default carried on', () => {
  it('has the shipped recipe (only its length and the folder format can differ)', () => {
    const { epochs: _a, version: _va, ...mine } = retrace.readConfig<RunConfig>();
    const { epochs: _b, version: _vb, ...theirs } = shipped.readConfig<RunConfig>();
    expect(mine).toEqual(theirs);
  });

  it("writes the shipped run's loss lines and FIDs to the last digit, wherever both have them", () => {
    const [a, b] = [stepsOf(shipped), stepsOf(retrace)];
    const common = [...b.keys()].filter((step) => a.has(step));
    // The retrace reaches past the shipped run's resume at step 2,343 (replayed as it happened).
    expect(Math.max(...common)).toBeGreaterThan(2343);
    for (const step of common) expect(b.get(step), `step ${step}`).toEqual(a.get(step));
    const [fa, fb] = [fidsOf(shipped), fidsOf(retrace)];
    const epochs = [...fb.keys()].filter((e) => e !== undefined && fa.has(e) && e <= 10);
    expect(epochs.length).toBeGreaterThan(2);
    for (const epoch of epochs) expect(fb.get(epoch), `epoch ${epoch}`).toBe(fa.get(epoch));
  });

  it('carries its whole training state at its last epoch, ready for the next sitting', () => {
    const state = JSON.parse(readFileSync(join(retrace.path('state'), 'state.json'), 'utf8')) as {
      step: number;
    };
    expect(state).toMatchObject({ format: 'ganstudio-carried-state', version: 2 });
    expect(Math.max(...stepsOf(retrace).keys())).toBe(state.step);
    for (const f of ['g-optimizer.bin', 'd-optimizer.bin', 'generator-ema/weights.bin'])
      expect(existsSync(join(retrace.path('state'), f)), f).toBe(true);
  });
});
