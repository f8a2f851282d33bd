/**
 * The gallery's models beyond the bundled ones, made the way a user makes them: images written
 * here, a tiny run trained with the `ganstudio` CLI (a dev dependency of this app), uploaded into
 * the data folder before the server starts (PGlite is single-process). Each returns its id.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';

import { APP, run, userEnv } from '../helpers';

/** The trainer's CLI, a dev dependency of this app. */
const GANSTUDIO = join(
  dirname(createRequire(join(APP, 'package.json')).resolve('@ganstudio/trainer/package.json')),
  'bin',
  'ganstudio.js',
);

/**
 * A 64×64 model in the gallery the way a user puts one there: 64 generated PNGs, a tiny run
 * trained on them with `ganstudio train --resolution 64`, and `ganstudio upload` into the data
 * folder (before the server starts: PGlite is single-process). Returns the model id.
 */
export async function uploadTiny64(dataDir: string): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), 'gallery-e2e-64-'));
  const images = join(work, 'images');
  mkdirSync(images);
  for (let i = 0; i < 64; i++) {
    const [w, h] = [48 + i, 80 - (i % 20)];
    const raw = Buffer.alloc(w * h * 3);
    for (let p = 0; p < w * h; p++)
      raw.set([(p * 7 + i * 13) % 256, (i * 29) % 256, (p % w) * 3], p * 3);
    await sharp(raw, { raw: { width: w, height: h, channels: 3 } })
      .png()
      .toFile(join(images, `${i}.png`));
  }
  const env = { ...userEnv(), GANSTUDIO_CACHE: join(work, 'cache'), GANSTUDIO_DATA_DIR: '' };
  const cli = (...args: string[]) =>
    run(process.execPath, [GANSTUDIO, ...args], { cwd: work, env });
  await cli(
    ...['train', '--data', images, '--resolution', '64', '--ngf', '4', '--ndf', '4'],
    ...[
      '--epochs',
      '2',
      '--batch-size',
      '16',
      // Two measured epochs: the run page's KID band and precision/recall need a curve.
      '--fid-every',
      '1',
      '--fid-samples',
      '300',
      '--backend',
      'wasm',
      '--out',
      'tiny64',
    ],
  );
  await cli('upload', 'tiny64', '--data-dir', dataDir, '--name', 'Tiny 64');
  return 'tiny64-e2';
}

/**
 * A class-conditional model the way a user makes one: three class folders of generated PNGs, a
 * tiny run with `ganstudio train --conditional`, uploaded before the server starts.
 */
export async function uploadTinyConditional(dataDir: string): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), 'gallery-e2e-cond-'));
  for (const [c, name] of ['cats', 'dogs', 'owls'].entries()) {
    mkdirSync(join(work, 'pets', name), { recursive: true });
    for (let i = 0; i < 16; i++) {
      const raw = Buffer.alloc(40 * 40 * 3);
      for (let p = 0; p < 40 * 40; p++) raw.set([c * 90, (p * 5 + i * 7) % 256, i * 13], p * 3);
      await sharp(raw, { raw: { width: 40, height: 40, channels: 3 } })
        .png()
        .toFile(join(work, 'pets', name, `${i}.png`));
    }
  }
  const env = { ...userEnv(), GANSTUDIO_CACHE: join(work, 'cache'), GANSTUDIO_DATA_DIR: '' };
  const cli = (...args: string[]) =>
    run(process.execPath, [GANSTUDIO, ...args], { cwd: work, env });
  await cli(
    ...['train', '--conditional', '--data', 'pets', '--ngf', '4', '--ndf', '4', '--epochs', '1'],
    ...['--batch-size', '16', '--fid-every', '0', '--backend', 'wasm', '--out', 'pets-run'],
  );
  await cli('upload', 'pets-run', '--data-dir', dataDir, '--name', 'Tiny pets');
  return 'pets-run-e1';
}

/**
 * A run on CIFAR-10's binary layout (a folder of data_batch_1..5.bin and test_batch.bin made
 * here), trained long enough to log its floor-and-ceiling scale line and measured every epoch,
 * so its run page has the whole quality section: the e2e checks the scale table on it.
 */
export async function uploadTinyCifar(dataDir: string): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), 'gallery-e2e-cifar-'));
  mkdirSync(join(work, 'cifar'));
  let seed = 7;
  const byte = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) >>> 24;
  const batch = (count: number) => {
    const bytes = Buffer.alloc(count * 3073);
    for (let i = 0; i < count; i++) {
      bytes[i * 3073] = i % 10;
      // A colour per image and noise on it: varied features, nothing to learn quickly.
      const [r, g, b] = [byte(), byte(), byte()];
      for (let p = 0; p < 1024; p++) {
        const n = byte() >> 3;
        bytes[i * 3073 + 1 + p] = (r + n) & 255;
        bytes[i * 3073 + 1 + 1024 + p] = (g + n) & 255;
        bytes[i * 3073 + 1 + 2048 + p] = (b + n) & 255;
      }
    }
    return bytes;
  };
  for (let i = 1; i <= 5; i++)
    writeFileSync(join(work, 'cifar', `data_batch_${i}.bin`), batch(110));
  writeFileSync(join(work, 'cifar', 'test_batch.bin'), batch(300));
  const env = { ...userEnv(), GANSTUDIO_CACHE: join(work, 'cache'), GANSTUDIO_DATA_DIR: '' };
  const cli = (...args: string[]) =>
    run(process.execPath, [GANSTUDIO, ...args], { cwd: work, env });
  // 2 epochs of 550 images: 1,100 trained on, enough for the scale's 2 × 260 (260 > the 256
  // feature dimensions FID needs).
  await cli(
    ...['train', '--data', 'cifar', '--ngf', '4', '--ndf', '4', '--epochs', '2'],
    ...['--batch-size', '50', '--fid-every', '1', '--fid-samples', '260'],
    ...['--backend', 'wasm', '--out', 'tinycifar'],
  );
  await cli('upload', 'tinycifar', '--data-dir', dataDir, '--name', 'Tiny CIFAR');
  return 'tinycifar';
}
