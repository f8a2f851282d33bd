/** The run folder's metrics.jsonl (one epoch base for every line; files from before it refused), its names, and what leaves the machine. */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { RunFolder, withoutMachinePaths, type MetricRecord } from './folder';

const step = (epoch: number, s: number) => ({
  type: 'step',
  epoch,
  step: s,
  d_loss: 1,
  g_loss: 1,
  d_x: 0.5,
  d_g_z: 0.5,
  images_per_sec: 9,
  elapsed_s: s,
});
const fid = (epoch: number, s: number) =>
  ({ type: 'fid', epoch, step: s, fid: 10, samples: 2000, feature_network: 'x' }) as MetricRecord;

describe('metrics.jsonl', () => {
  it('counts epochs from 1 on every line, and refuses a file from before the header', () => {
    const run = mkdtempSync(join(tmpdir(), 'run-'));
    for (const s of [1, 2]) new RunFolder(run).appendMetric(step(1, s));
    new RunFolder(run).appendMetric(fid(1, 2));
    new RunFolder(run).appendMetric(step(2, 3));
    const lines = readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n');
    expect(JSON.parse(lines[0]!)).toMatchObject({ type: 'format', epoch_base: 1 });
    expect(new RunFolder(run).readMetrics().map((r) => [r.type, r.epoch])).toEqual([
      ['step', 1],
      ['step', 1],
      ['fid', 1],
      ['step', 2],
    ]);

    // A file from before the header (step lines counted from 0) is refused, not guessed at, and
    // left as it was.
    const old = mkdtempSync(join(tmpdir(), 'run-'));
    const legacy = [step(0, 1), step(0, 2), fid(1, 2), step(1, 3)];
    const text = legacy.map((r) => JSON.stringify(r) + '\n').join('');
    writeFileSync(join(old, 'metrics.jsonl'), text);
    expect(() => new RunFolder(old).readMetrics()).toThrow(/no format header: written before/);
    expect(() => new RunFolder(old).appendMetric(step(2, 4))).toThrow(/no format header/);
    expect(readFileSync(join(old, 'metrics.jsonl'), 'utf8')).toBe(text);
  });

  it('drops a torn last line from a crash mid-append', () => {
    const run = mkdtempSync(join(tmpdir(), 'run-'));
    new RunFolder(run).appendMetric(step(1, 1));
    writeFileSync(
      join(run, 'metrics.jsonl'),
      readFileSync(join(run, 'metrics.jsonl'), 'utf8') + '{"type":"st',
    );
    expect(new RunFolder(run).readMetrics().map((r) => r.step)).toEqual([1]);
  });
});

describe('folder names', () => {
  it('lists kept epochs and sample grids by number, ignoring anything else', () => {
    const run = mkdtempSync(join(tmpdir(), 'run-'));
    for (const e of [10, 2])
      mkdirSync(join(run, 'epochs', `epoch-${String(e).padStart(4, '0')}`), { recursive: true });
    mkdirSync(join(run, 'epochs', 'epoch-x'));
    mkdirSync(join(run, 'samples'));
    for (const f of [new RunFolder(run).epochGrid(3), new RunFolder(run).epochGrid(1)])
      writeFileSync(f, '');
    writeFileSync(join(run, 'samples', 'notes.txt'), '');
    expect(new RunFolder(run).keptEpochs()).toEqual([2, 10]);
    expect(new RunFolder(run).sampleGrids()).toEqual([
      { epoch: 1, file: 'epoch-0001.png' },
      { epoch: 3, file: 'epoch-0003.png' },
    ]);
  });
});

describe('what leaves the machine', () => {
  it('machine paths become their last segment at any depth; other strings stay', () => {
    expect(
      withoutMachinePaths({
        data: '/home/ada/datasets/cifar-10-binary.tar.gz',
        nested: [{ run: '~/runs/narrow32' }, 'C:\\Users\\ada\\faces', '\\\\nas\\share\\cats'],
        keep: ['runs/relative', 'cifar10-train', 'images:faces@1a2b×64', 7, null],
      }),
    ).toEqual({
      data: 'cifar-10-binary.tar.gz',
      nested: [{ run: 'narrow32' }, 'faces', 'cats'],
      keep: ['runs/relative', 'cifar10-train', 'images:faces@1a2b×64', 7, null],
    });
  });
});
