import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

import {
  fixtureRecords,
  makeTar,
  writeCifarFolder,
  writeCifarTarGz,
} from '../testing/cifar-fixture';
import { epochPermutation, planBatches, toNhwc } from './batches';
import { ensureOfficialCifar10, loadCifar10, MAX_TAR_BYTES, RECORD_BYTES } from './cifar';

const tmp = () => mkdtempSync(join(tmpdir(), 'cifar-test-'));

describe('CIFAR-10 binary reader', () => {
  it('reads the five training batches from a tar.gz in order, labels and planes intact', () => {
    const data = loadCifar10(writeCifarTarGz(tmp(), 6));
    expect(data.count).toBe(30);
    expect(Array.from(data.labels.subarray(0, 12))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    // Record 7: R plane 7, G plane 14.
    expect(data.pixels[7 * 3072]).toBe(7);
    expect(data.pixels[7 * 3072 + 1024]).toBe(14);
  });

  it('reads the test split and the extracted folder layout', () => {
    const dir = writeCifarFolder(tmp(), 4);
    expect(loadCifar10(dir).count).toBe(20);
    const test = loadCifar10(dir, 'test');
    expect(test.count).toBe(4);
    expect(test.pixels[0]).toBe(20); // test records continue the numbering after the 20 training ones
  });

  it('turns planes into NHWC floats in [-1, 1], with exact left–right flips', () => {
    const data = loadCifar10(writeCifarTarGz(tmp(), 2));
    const [plain, flipped] = [toNhwc(data, [1]), toNhwc(data, [1], [true])];
    // Pixel (y=0, x=0): R = 1 → 1/127.5 − 1, G = 2, B gradient = 0 → −1.
    expect(plain[0]).toBeCloseTo(1 / 127.5 - 1, 6);
    expect(plain[1]).toBeCloseTo(2 / 127.5 - 1, 6);
    expect(plain[2]).toBe(-1);
    expect(flipped[2]).toBeCloseTo((31 * 8) / 127.5 - 1, 6); // x=0 now holds x=31's blue
    expect(Math.min(...plain)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...plain)).toBeLessThanOrEqual(1);
  });

  it('gives one clear error for each kind of bad input', () => {
    const dir = tmp();
    const write = (name: string, bytes: Uint8Array) => {
      const p = join(dir, name);
      writeFileSync(p, bytes);
      return p;
    };
    expect(() => loadCifar10(join(dir, 'nope.tar.gz'))).toThrow(/no such file or directory/);
    expect(() => loadCifar10(write('text.tar.gz', new TextEncoder().encode('hello')))).toThrow(
      /not a tar.gz file/,
    );
    const good = gzipSync(makeTar({ 'data_batch_1.bin': fixtureRecords(2) }));
    expect(() => loadCifar10(write('cut.tar.gz', good.subarray(0, good.length - 40)))).toThrow(
      /corrupt or truncated gzip/,
    );
    expect(() =>
      loadCifar10(write('notar.tar.gz', gzipSync(new Uint8Array(2048).fill(65)))),
    ).toThrow(/not a tar archive/);
    const files: Record<string, Uint8Array> = {};
    for (let b = 1; b <= 5; b++) files[`data_batch_${b}.bin`] = fixtureRecords(2);
    files['data_batch_3.bin'] = fixtureRecords(2).subarray(0, RECORD_BYTES + 100);
    expect(() => loadCifar10(write('torn.tar.gz', gzipSync(makeTar(files))))).toThrow(
      /data_batch_3.bin: 3173 bytes is not a whole number of 3073-byte CIFAR-10 records/,
    );
    const badLabel = fixtureRecords(2);
    badLabel[RECORD_BYTES] = 42;
    files['data_batch_3.bin'] = badLabel;
    expect(() => loadCifar10(write('label.tar.gz', gzipSync(makeTar(files))))).toThrow(
      /record 1 has label 42/,
    );
    delete files['data_batch_5.bin'];
    files['data_batch_3.bin'] = fixtureRecords(2);
    expect(() => loadCifar10(write('short.tar.gz', gzipSync(makeTar(files))))).toThrow(
      /archive is missing data_batch_5.bin/,
    );
    expect(() => loadCifar10(tmp())).toThrow(/no CIFAR-10 train batches/);
  });

  it('refuses a gzip bomb before it expands past the bound: a 1 KB file, and ~280 KB of zeros at the real bound', () => {
    const dir = tmp();
    const bomb = gzipSync(new Uint8Array(1 << 20), { level: 9 }); // 1 MiB of zeros in ~1 KB
    expect(bomb.length).toBeLessThan(1100);
    writeFileSync(join(dir, 'bomb.tar.gz'), bomb);
    expect(() => loadCifar10(join(dir, 'bomb.tar.gz'), 'train', 512 * 1024)).toThrow(
      /bomb\.tar\.gz: expands to more than 0\.5 MiB/,
    );
    const big = gzipSync(new Uint8Array(MAX_TAR_BYTES + (16 << 20)), { level: 9 });
    writeFileSync(join(dir, 'big.tar.gz'), big);
    expect(() => loadCifar10(join(dir, 'big.tar.gz'))).toThrow(
      /expands to more than 256 MiB, far larger than CIFAR-10's 184 MB/,
    );
  });

  it('re-verifies a cached official archive by checksum and never uses a changed one', async () => {
    const cache = tmp();
    writeFileSync(join(cache, 'cifar-10-binary.tar.gz'), 'not the official file');
    const lines: string[] = [];
    const tampered = () => Promise.resolve(new Response('also not the official file'));
    await expect(
      ensureOfficialCifar10((l) => lines.push(l), cache, tampered as typeof fetch),
    ).rejects.toThrow(/CIFAR-10 download has sha256 [0-9a-f]{64}, expected a23bbde3/);
    expect(lines[0]).toMatch(
      /cifar-10-binary\.tar\.gz has sha256 [0-9a-f]{64}, expected a23bbde3.*downloading it again/,
    );
    expect(existsSync(join(cache, 'cifar-10-binary.tar.gz'))).toBe(false);
  });
});

describe('batches', () => {
  it('shuffle each epoch differently but reproducibly, visiting every image once', () => {
    const a = epochPermutation(100, 1, 0);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(Array.from(epochPermutation(100, 1, 0))).toEqual(Array.from(a));
    expect(Array.from(epochPermutation(100, 1, 1))).not.toEqual(Array.from(a));
  });

  it('drop the last partial batch and map global steps to epochs', () => {
    const plan = planBatches(100, 32);
    expect(plan.stepsPerEpoch).toBe(3);
    expect(plan.locate(4)).toEqual({ epoch: 1, offset: 32 });
  });
});
