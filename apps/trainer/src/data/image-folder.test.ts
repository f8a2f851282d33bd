/**
 * Training on your own images, as a person does it: a folder of a few hundred generated images
 * (mixed sizes, PNG / JPEG / WebP, RGB / RGBA / greyscale, one corrupt file, one text file) trains
 * a tiny 64×64 run on the wasm backend through the real CLI; the bad inputs are one line each.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import '@tensorflow/tfjs-backend-cpu';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { decodePng } from '@ganstudio/models/image';

import { runCli } from '../testing/cli';
import { writeImageFolder } from '../testing/image-fixture';
import { prepareImages } from './image-folder';

const root = mkdtempSync(join(tmpdir(), 'images-test-'));
// The prepared-image cache of this suite only, for the CLI processes and the in-process calls.
process.env['GANSTUDIO_CACHE'] = join(root, 'cache');
const cli = (...args: string[]) => runCli(root, ...args);
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  await writeImageFolder(join(root, 'photos'), 240);
  server = createServer((req, res) => {
    const path = join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    try {
      res.writeHead(200).end(readFileSync(path));
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  baseUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
}, 120_000);
afterAll(() => server.close());

/** One "error: …" line, no stack, a non-zero exit. */
function expectOneLine(r: ReturnType<typeof cli>, pattern: RegExp) {
  expect(r.code).not.toBe(0);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('error: '));
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

const tinyRun = (out: string, ...extra: string[]) =>
  cli(
    'train',
    ...['--data', 'photos', '--resolution', '64', '--ngf', '4', '--ndf', '4', '--epochs', '1'],
    ...['--batch-size', '32', '--fid-every', '0', '--backend', 'wasm', '--out', out, ...extra],
  );

describe('train --data <a folder of your images> --resolution 64', () => {
  it('trains end to end: 64×64 grids, an export stock TF.js loads, the skipped files named', async () => {
    const r = tinyRun('run64');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/preparing images: 241\/241 images \(100%\), \d+ images\/s/);
    expect(r.stderr).toContain(
      'photos: 240 images used, 2 skipped (1 not an image file: README.txt; 1 could not be decoded: broken.png)',
    );
    expect(r.stderr).toMatch(/finished at step 7\/7 on wasm/); // 240 images, batches of 32
    const grid = decodePng(readFileSync(join(root, 'run64', 'samples', 'epoch-0001.png')));
    expect([grid.width, grid.height]).toEqual([8 * 64 + 9 * 2, 8 * 64 + 9 * 2]); // 8×8 tiles of 64, 2 px gaps
    const config = JSON.parse(readFileSync(join(root, 'run64', 'config.json'), 'utf8'));
    expect(config.model.resolution).toBe(64);

    await tf.setBackend('cpu');
    const g = await tfl.loadLayersModel(`${baseUrl}/run64/generator-uint8/model.json`);
    const out = g.predict(tf.zeros([2, 100])) as tf.Tensor;
    expect(out.shape).toEqual([2, 64, 64, 3]);
    tf.dispose([out]);
    g.dispose();
  }, 300_000);

  it('reuses the prepared images: a second run decodes nothing', async () => {
    const r = tinyRun('run64-again', '--max-steps', '1');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/photos: 240 images used, 2 skipped .*; prepared earlier, read from /);
    expect(r.stderr).not.toMatch(/preparing images/);
    // In process, the same signal as a count: nothing decoded, the same pixels.
    const again = await prepareImages(join(root, 'photos'), { resolution: 64 });
    expect([again.cached, again.decoded, again.count, again.size]).toEqual([true, 0, 240, 64]);
    // Another resolution is another preparation.
    const small = await prepareImages(join(root, 'photos'), { resolution: 32 });
    expect([small.cached, small.decoded, small.pixels.length]).toEqual([false, 241, 240 * 3072]);
  }, 300_000);

  it('refuses bad input with one line and a non-zero exit', () => {
    mkdirSync(join(root, 'empty'));
    mkdirSync(join(root, 'no-images'));
    writeFileSync(join(root, 'no-images', 'notes.txt'), 'nothing here');
    writeFileSync(join(root, 'no-images', 'fake.jpg'), 'not a jpeg');
    writeFileSync(join(root, 'broken.zip'), Buffer.from('PK\x03\x04 this is not a zip'));
    writeFileSync(join(root, 'random.bin'), Buffer.from('neither an archive nor a folder'));
    const train = (data: string, ...extra: string[]) =>
      cli('train', '--data', data, '--out', `bad-${data}`, '--backend', 'cpu', ...extra);
    expectOneLine(train('empty'), /empty: the folder has no files$/);
    expectOneLine(
      train('no-images'),
      /no-images: 0 images used, 2 skipped \(1 not an image file: notes.txt; 1 could not be decoded: fake.jpg\): no decodable PNG, JPEG or WebP image$/,
    );
    expectOneLine(train('broken.zip'), /broken.zip: unreadable zip archive/);
    expectOneLine(train('random.bin'), /random.bin: not a folder, .zip or .tar.gz of images/);
    expectOneLine(
      train('photos', '--resolution', '64', '--batch-size', '256'),
      /only 240 training images, fewer than --batch-size 256/,
    );
    expectOneLine(
      train('photos', '--resolution', '64', '--strict'),
      /photos\/part-0\/broken.png: could not be decoded .*without --strict it would be skipped/,
    );
    expectOneLine(train('photos', '--resolution', '48'), /--resolution must be one of 32, 64/);
  }, 300_000);
});
