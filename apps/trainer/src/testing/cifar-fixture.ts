/**
 * Test fixtures in the official CIFAR-10 binary layout: a tar.gz (or folder) of data_batch_1..5
 * and test_batch with `perBatch` records each. Each image is a flat colour derived from its index,
 * so tests can tell records and planes apart.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

import { RECORD_BYTES } from '../data/cifar';

export function fixtureRecords(count: number, offset = 0): Uint8Array {
  const bytes = new Uint8Array(count * RECORD_BYTES);
  for (let i = 0; i < count; i++) {
    const n = offset + i;
    const r = i * RECORD_BYTES;
    bytes[r] = n % 10;
    // R plane = n mod 256, G plane = 2n mod 256, B plane = a horizontal gradient (so flips show).
    bytes.fill(n % 256, r + 1, r + 1 + 1024);
    bytes.fill((2 * n) % 256, r + 1 + 1024, r + 1 + 2048);
    for (let p = 0; p < 1024; p++) bytes[r + 1 + 2048 + p] = (p % 32) * 8;
  }
  return bytes;
}

function tarEntry(name: string, body: Uint8Array): Uint8Array {
  const header = new Uint8Array(512);
  const put = (s: string, at: number) => header.set(new TextEncoder().encode(s), at);
  put(name, 0);
  put('0000644\0', 100);
  put('0000000\0', 108);
  put('0000000\0', 116);
  put(body.length.toString(8).padStart(11, '0') + '\0', 124);
  put('00000000000\0', 136);
  put('0', 156);
  put('ustar\0', 257);
  put('00', 263);
  put('        ', 148);
  const sum = header.reduce((a, b) => a + b, 0);
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  const padded = new Uint8Array(512 + Math.ceil(body.length / 512) * 512);
  padded.set(header);
  padded.set(body, 512);
  return padded;
}

export function makeTar(files: Record<string, Uint8Array>): Uint8Array {
  const parts = Object.entries(files).map(([n, b]) => tarEntry(n, b));
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0) + 1024);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export function fixtureFiles(perBatch: number): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  for (let b = 1; b <= 5; b++)
    files[`cifar-10-batches-bin/data_batch_${b}.bin`] = fixtureRecords(
      perBatch,
      (b - 1) * perBatch,
    );
  files['cifar-10-batches-bin/test_batch.bin'] = fixtureRecords(perBatch, 5 * perBatch);
  files['cifar-10-batches-bin/batches.meta.txt'] = new TextEncoder().encode(
    'airplane\nautomobile\n',
  );
  return files;
}

/** Writes dir/cifar-10-binary.tar.gz and returns its path. */
export function writeCifarTarGz(dir: string, perBatch: number): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'cifar-10-binary.tar.gz');
  writeFileSync(path, gzipSync(makeTar(fixtureFiles(perBatch))));
  return path;
}

/** Writes the extracted layout (dir/cifar-10-batches-bin/*.bin) and returns dir. */
export function writeCifarFolder(dir: string, perBatch: number): string {
  for (const [name, bytes] of Object.entries(fixtureFiles(perBatch))) {
    mkdirSync(join(dir, 'cifar-10-batches-bin'), { recursive: true });
    writeFileSync(join(dir, name), bytes);
  }
  return dir;
}

/** CLI flags of a smoke training run: tiny widths on the cpu backend, one epoch. */
export function smokeTrainArgs(
  data: string,
  out: string,
  limit: number,
  batchSize: number,
  ...extra: string[]
): string[] {
  return [
    'train',
    '--data',
    data,
    '--limit',
    String(limit),
    '--batch-size',
    String(batchSize),
    '--epochs',
    '1',
    '--ngf',
    '2',
    '--ndf',
    '2',
    '--latent-dim',
    '8',
    '--backend',
    'cpu',
    '--out',
    out,
    // FID needs a classifier pass per epoch; tests that want it turn it on (later flags win).
    '--fid-every',
    '0',
    ...extra,
  ];
}

/**
 * The real CIFAR-10 archive, for the suites that train or measure on it: CIFAR10_PATH (`.ci/run`
 * sets it where a copy is at hand), else none and those suites say they are skipped.
 */
export const REAL_CIFAR10 = process.env['CIFAR10_PATH'] ?? '';
