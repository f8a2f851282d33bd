/**
 * CIFAR-10, binary version (https://www.cs.toronto.edu/~kriz/cifar.html): records of 1 label byte
 * then 3,072 pixel bytes as three 32×32 planes (R, G, B), row-major. Read from the official
 * cifar-10-binary.tar.gz or its extracted folder.
 */
import { createHash } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';

import { at } from '@ganstudio/models/arrays';
import { CIFAR10_CLASSES } from '@ganstudio/models/gan';
import { writeFileSyncDurable } from '@ganstudio/runs/fs-atomic';

import { describeFsError, UserError } from '../errors';

export const RECORD_BYTES = 1 + 3 * 32 * 32;
export const PIXELS_PER_IMAGE = 3 * 32 * 32;
export const CLASS_NAMES = CIFAR10_CLASSES;

export const OFFICIAL_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz';
/** sha256 of the official cifar-10-binary.tar.gz. */
export const OFFICIAL_SHA256 = 'a23bbde32be588dca4551fc446ca57b6b375fa7ca1a8b255d5521afbcdcd2719';

/**
 * Most bytes a --data archive may expand to: the official tar is 184 MB (six 30.7 MB batches and
 * two small text files). Without a bound a small gzip "bomb" (deflate reaches ~1,000:1, and a
 * crafted archive can be nested or multi-member) would expand until the process runs out of memory.
 */
export const MAX_TAR_BYTES = 256 * 1024 * 1024;

export type CifarSplit = 'train' | 'test';
const SPLIT_FILES: Record<CifarSplit, string[]> = {
  train: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`),
  test: ['test_batch.bin'],
};

/**
 * A set of images in planar uint8: CIFAR-10's own layout, which your own images (any side) are
 * prepared into as well, so every reader, batcher and metric takes both.
 */
export interface PlanarImages {
  /** count × 3·S² bytes, each image as R, G, B planes of S×S (CIFAR-10's own layout). */
  pixels: Uint8Array;
  labels: Uint8Array;
  count: number;
  /** The side S: 32 when absent (CIFAR-10). */
  size?: number;
}

export const sideOf = (data: PlanarImages) => data.size ?? 32;

/** The first `count` images (all when there are fewer), as views: nothing is copied. */
export function firstImages(data: PlanarImages, count: number): PlanarImages {
  const n = Math.min(count, data.count);
  return {
    pixels: data.pixels.subarray(0, n * 3 * sideOf(data) ** 2),
    labels: data.labels.subarray(0, n),
    count: n,
    size: sideOf(data),
  };
}

/** Minimal ustar/GNU tar reader: regular files by name (no links or sparse files, which CIFAR does not use). */
export function readTar(tar: Uint8Array, source: string): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  let off = 0;
  let longName: string | undefined;
  const text = (start: number, len: number) => {
    const bytes = tar.subarray(start, start + len);
    const end = bytes.indexOf(0);
    return new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end));
  };
  while (off + 512 <= tar.length) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break; // end-of-archive marker
    const magic = text(off + 257, 5);
    const sizeField = text(off + 124, 12).trim();
    if (!/^[0-7]+$/.test(sizeField) || (magic !== 'ustar' && magic !== '')) {
      throw new UserError(`${source}: not a tar archive (bad header at byte ${off})`);
    }
    const size = parseInt(sizeField, 8);
    const type = String.fromCharCode(at(header, 156));
    const prefix = text(off + 345, 155);
    const name = longName ?? (prefix ? `${prefix}/${text(off, 100)}` : text(off, 100));
    longName = undefined;
    const start = off + 512;
    if (start + size > tar.length)
      throw new UserError(`${source}: truncated tar archive (${name} is cut short)`);
    const body = tar.subarray(start, start + size);
    if (type === 'L') longName = text(start, size);
    else if (type === '0' || type === '\0') files.set(name, body);
    off = start + Math.ceil(size / 512) * 512;
  }
  return files;
}

function parseRecords(chunks: { name: string; bytes: Uint8Array }[]): PlanarImages {
  let count = 0;
  for (const { name, bytes } of chunks) {
    if (bytes.length === 0 || bytes.length % RECORD_BYTES !== 0) {
      throw new UserError(
        `${name}: ${bytes.length} bytes is not a whole number of ${RECORD_BYTES}-byte CIFAR-10 records (truncated or wrong file)`,
      );
    }
    count += bytes.length / RECORD_BYTES;
  }
  const pixels = new Uint8Array(count * PIXELS_PER_IMAGE);
  const labels = new Uint8Array(count);
  let i = 0;
  for (const { name, bytes } of chunks) {
    for (let r = 0; r < bytes.length; r += RECORD_BYTES, i++) {
      const label = at(bytes, r);
      if (label > 9)
        throw new UserError(
          `${name}: record ${r / RECORD_BYTES} has label ${label}, CIFAR-10 labels are 0–9`,
        );
      labels[i] = label;
      pixels.set(bytes.subarray(r + 1, r + RECORD_BYTES), i * PIXELS_PER_IMAGE);
    }
  }
  return { pixels, labels, count };
}

/** Loads one split from a .tar.gz or a folder (the extracted archive, or cifar-10-batches-bin itself). */
export function loadCifar10(
  path: string,
  split: CifarSplit = 'train',
  maxTarBytes = MAX_TAR_BYTES,
): PlanarImages {
  const wanted = SPLIT_FILES[split];
  try {
    if (!existsSync(path)) throw new UserError(`${path}: no such file or directory`);
    if (statSync(path).isDirectory()) {
      const dir = existsSync(join(path, 'cifar-10-batches-bin'))
        ? join(path, 'cifar-10-batches-bin')
        : path;
      const present = new Set(readdirSync(dir));
      const missing = wanted.filter((f) => !present.has(f));
      if (missing.length === wanted.length) {
        throw new UserError(
          `${path}: no CIFAR-10 ${split} batches (${wanted.join(', ')}) in this folder`,
        );
      }
      if (missing.length) throw new UserError(`${path}: missing ${missing.join(', ')}`);
      return parseRecords(
        wanted.map((f) => ({ name: join(dir, f), bytes: readFileSync(join(dir, f)) })),
      );
    }
    const raw = readFileSync(path);
    if (raw.length < 2 || raw[0] !== 0x1f || raw[1] !== 0x8b) {
      throw new UserError(
        `${path}: not a tar.gz file (no gzip header); pass the CIFAR-10 binary .tar.gz or its extracted folder`,
      );
    }
    let tar: Uint8Array;
    try {
      tar = gunzipSync(raw, { maxOutputLength: maxTarBytes });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
        throw new UserError(
          `${path}: expands to more than ${(maxTarBytes / 2 ** 20).toFixed(maxTarBytes < 2 ** 20 ? 1 : 0)} MiB, far larger than CIFAR-10's 184 MB; not a CIFAR-10 archive`,
        );
      throw new UserError(`${path}: corrupt or truncated gzip data (${(err as Error).message})`);
    }
    const files = readTar(tar, path);
    const byBase = new Map(
      [...files].map(([name, bytes]) => [basename(name), { name: `${path}:${name}`, bytes }]),
    );
    const missing = wanted.filter((f) => !byBase.has(f));
    if (missing.length === wanted.length)
      throw new UserError(
        `${path}: no CIFAR-10 ${split} batches (${wanted.join(', ')}) in the archive`,
      );
    if (missing.length) throw new UserError(`${path}: archive is missing ${missing.join(', ')}`);
    return parseRecords(wanted.flatMap((f) => byBase.get(f) ?? []));
  } catch (err) {
    throw describeFsError(err, path) ?? err;
  }
}

export function defaultCacheDir(): string {
  return (
    process.env['GANSTUDIO_CACHE'] ??
    join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'gan-studio')
  );
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * The default --data: the official archive, downloaded once into the cache and verified by
 * checksum (a mismatching download is deleted, never used). The cached copy is verified again on
 * every use: a file changed in the cache (disk error, a partial copy, tampering) is replaced by a
 * fresh download, never trained on.
 */
export async function ensureOfficialCifar10(
  log: (line: string) => void,
  cacheDir = defaultCacheDir(),
  fetchImpl: typeof fetch = fetch,
): Promise<string> {
  const target = join(cacheDir, 'cifar-10-binary.tar.gz');
  if (existsSync(target)) {
    const cached = await sha256File(target);
    if (cached === OFFICIAL_SHA256) return target;
    log(`${target} has sha256 ${cached}, expected ${OFFICIAL_SHA256}; downloading it again`);
    rmSync(target);
  }
  mkdirSync(cacheDir, { recursive: true });
  log(`downloading CIFAR-10 from ${OFFICIAL_URL} into ${cacheDir} (170 MB, once)`);
  let response: Response;
  try {
    response = await fetchImpl(OFFICIAL_URL, { signal: AbortSignal.timeout(30 * 60_000) });
  } catch (err) {
    throw new UserError(
      `cannot download CIFAR-10 from ${OFFICIAL_URL} (${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}); download it elsewhere and pass --data <path to cifar-10-binary.tar.gz>`,
    );
  }
  if (!response.ok)
    throw new UserError(`CIFAR-10 download failed: HTTP ${response.status} from ${OFFICIAL_URL}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const digest = createHash('sha256').update(bytes).digest('hex');
  if (digest !== OFFICIAL_SHA256) {
    throw new UserError(
      `CIFAR-10 download has sha256 ${digest}, expected ${OFFICIAL_SHA256}; not using it`,
    );
  }
  const tmp = `${target}.part`;
  writeFileSyncDurable(tmp, bytes);
  renameSync(tmp, target);
  return target;
}
