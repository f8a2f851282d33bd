/**
 * Class-conditional training from a folder whose subfolders are the classes, through the CLI as a
 * user runs it: the run, the export that stock TF.js loads with two inputs, `sample --class`, and
 * each bad input as one error line.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import '@tensorflow/tfjs-backend-cpu';

import * as tf from '@tensorflow/tfjs-core';
import { loadLayersModel } from '@tensorflow/tfjs-layers';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';

import { decodePng } from '@ganstudio/models/image';

import { CLASS_NAMES } from '../data/cifar';
import { smokeTrainArgs, writeCifarTarGz } from '../testing/cifar-fixture';
import { expectTilesAreServerRenders, runCli } from '../testing/cli';

const root = mkdtempSync(join(tmpdir(), 'conditional-test-'));
// Prepared images are cached per content: keep this suite's cache its own.
process.env['GANSTUDIO_CACHE'] = join(root, 'cache');
const cli = (...args: string[]) => runCli(root, ...args);
const CLASSES = ['cats', 'dogs', 'owls'];

/** `count` 40×40 PNGs of one flat colour family per class, in `dir`. */
async function writeClass(dir: string, count: number, hue: number) {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const raw = Buffer.alloc(40 * 40 * 3);
    for (let p = 0; p < 40 * 40; p++)
      raw.set([(hue * 90 + i * 3) % 256, (p * 5 + hue * 60) % 256, (i * 11) % 256], p * 3);
    writeFileSync(
      join(dir, `${i}.png`),
      await sharp(raw, { raw: { width: 40, height: 40, channels: 3 } })
        .png()
        .toBuffer(),
    );
  }
}

/** One "error: …" line, no stack frames. */
function expectOneError(r: ReturnType<typeof cli>, pattern: RegExp) {
  expect(r.code).not.toBe(0);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('error: '));
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

const TINY = ['--ngf', '4', '--ndf', '4', '--batch-size', '16', '--fid-every', '0'];

beforeAll(async () => {
  await tf.setBackend('cpu');
  for (const [i, name] of CLASSES.entries()) await writeClass(join(root, 'pets', name), 16, i);
});

describe('train --conditional on a folder of class folders', () => {
  it('trains, exports a two-input model stock TF.js runs, and samples each class', async () => {
    const r = cli(
      'train',
      '--conditional',
      '--data',
      'pets',
      ...TINY,
      '--epochs',
      '1',
      '--backend',
      'cpu',
      '--out',
      'run',
    );
    expect(r.code, r.stderr).toBe(0);
    const config = JSON.parse(readFileSync(join(root, 'run', 'config.json'), 'utf8'));
    expect(config.classNames).toEqual(CLASSES);
    expect(config.model.classes).toBe(3);
    // Stock TF.js, no project code: the uint8 weights dequantize on load.
    const dir = join(root, 'run', 'generator-uint8');
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect(json.userDefinedMetadata.classes).toEqual(CLASSES);
    const g = await loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest[0].weights,
        weightData: new Uint8Array(readFileSync(join(dir, 'weights.bin'))).buffer,
      }),
    );
    expect(g.inputs.map((i) => i.shape)).toEqual([
      [null, 100],
      [null, 1],
    ]);
    const z = tf.randomNormal([3, 100], 0, 1, 'float32', 1);
    const y = tf.tensor2d([[0], [1], [2]], [3, 1], 'int32');
    const out = g.predict([z, y]) as tf.Tensor;
    expect(out.shape).toEqual([3, 32, 32, 3]);
    tf.dispose([z, y, out]);
    g.dispose();
    // `sample --class`: by name and by index, tile i the server render of seed 7 + i in that class.
    for (const [cls, index] of [
      ['dogs', 1],
      ['2', 2],
    ] as const) {
      const s = cli(
        'sample',
        '--model',
        'run/generator-uint8',
        '--seed',
        '7',
        '--count',
        '4',
        '--scale',
        '1',
        '--class',
        cls,
        '--backend',
        'cpu',
        '--out',
        `grid-${index}.png`,
      );
      expect(s.code, s.stderr).toBe(0);
      expect(s.stderr).toContain(`samples of ${CLASSES[index]}`);
      const grid = decodePng(readFileSync(join(root, `grid-${index}.png`)));
      await expectTilesAreServerRenders(grid, 7, dir, index);
    }
    // Without --class: one row per class at the same seeds.
    const all = cli('sample', '--model', 'run', '--count', '6', '--scale', '1', '--out', 'all.png');
    expect(all.stderr).toContain('one row per class (cats, dogs, owls)');
    const grid = decodePng(readFileSync(join(root, 'all.png')));
    expect([grid.width, grid.height]).toEqual([2 + 2 * 34, 2 + 3 * 34]);
    expectOneError(
      cli('sample', '--model', 'run', '--class', 'zebra', '--out', 'z.png'),
      /--class: unknown class "zebra": one of cats \(0\), dogs \(1\), owls \(2\)/,
    );
  }, 300_000);

  it('refuses images in the root folder, a lone class and a class smaller than a batch', async () => {
    await writeClass(join(root, 'loose', 'cats'), 16, 0);
    await writeClass(join(root, 'loose', 'dogs'), 16, 1);
    await writeClass(join(root, 'loose'), 2, 2);
    expectOneError(
      cli('train', '--conditional', '--data', 'loose', ...TINY, '--out', 'r1'),
      /takes each subfolder as a class, but 2 images lie in the folder itself \(0\.png, 1\.png\)/,
    );
    await writeClass(join(root, 'lone', 'cats'), 16, 0);
    expectOneError(
      cli('train', '--conditional', '--data', 'lone', ...TINY, '--out', 'r2'),
      /needs at least two classes .*found 1 \(cats\)/,
    );
    await writeClass(join(root, 'small', 'cats'), 16, 0);
    await writeClass(join(root, 'small', 'dogs'), 5, 1);
    expectOneError(
      cli('train', '--conditional', '--data', 'small', ...TINY, '--out', 'r3'),
      /class dogs \(5 images\) has fewer images than one batch \(--batch-size 16\)/,
    );
  }, 300_000);

  it('on CIFAR-10 labels: eval adds class fidelity and a per-class table', () => {
    const data = writeCifarTarGz(join(root, 'cifar'), 64); // 320 images, 32 of each class
    const t = cli(...smokeTrainArgs(data, 'cifar-run', 320, 16, '--conditional'));
    expect(t.code, t.stderr).toBe(0);
    const model = join(root, 'cifar-run', 'generator-uint8');
    const e = cli(
      'eval',
      '--model',
      model,
      '--data',
      data,
      '--samples',
      '260',
      '--backend',
      'wasm',
      '--json',
    );
    expect(e.code, e.stderr).toBe(0);
    const r = JSON.parse(e.stdout.trim()) as {
      class_fidelity: number;
      per_class: { class: string; fid: number | null; class_fidelity: number; samples: number }[];
    };
    // 26 samples a class: every class drawn equally often, each scored by the shipped classifier.
    expect(r.per_class.map((c) => [c.class, c.samples])).toEqual(CLASS_NAMES.map((c) => [c, 26]));
    const hits = r.per_class.reduce((n, c) => n + c.class_fidelity * c.samples, 0);
    expect(r.class_fidelity).toBeCloseTo(hits / 260, 9);
    expect(r.class_fidelity).toBeGreaterThanOrEqual(0);
    expect(r.class_fidelity).toBeLessThanOrEqual(1);
    // 26 samples are fewer than the classifier's 256 feature dimensions: no per-class FID.
    expect(r.per_class.every((c) => c.fid === null)).toBe(true);
    const text = cli(
      'eval',
      '--model',
      model,
      '--data',
      data,
      '--samples',
      '260',
      '--backend',
      'wasm',
    );
    expect(text.stdout).toMatch(/^class fidelity \(CIFAR-10 classifier\): \d+\.\d%$/m);
    expect(text.stdout).toMatch(/^horse +— +\d+\.\d% +26$/m);
  }, 300_000);
});
