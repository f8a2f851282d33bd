/**
 * Your own training images: a folder (searched recursively), a .zip or a .tar.gz of PNG, JPEG or
 * WebP files. Each is decoded by sharp (libvips), turned into RGB (alpha flattened onto white,
 * greyscale expanded, EXIF orientation applied), centre-cropped to a square and resized to the
 * training resolution with a Lanczos-3 filter — once: the result is cached as raw uint8 planes in
 * the cache folder, keyed by the source's content and the resolution, so later epochs and later
 * runs never decode again. Files that are not images, or do not decode, are skipped and counted.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { unzipSync } from 'fflate';
import sharp from 'sharp';

import { at } from '@ganstudio/models/arrays';
import type { Resolution } from '@ganstudio/models/gan';
import { writeFileAtomic } from '@ganstudio/runs/fs-atomic';

import { describeFsError, UserError } from '../errors';
import { defaultCacheDir, readTar, type PlanarImages } from './cifar';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp'];
/** An archive may expand to this much (a bound against gzip bombs; far above a usable set in memory). */
export const MAX_ARCHIVE_BYTES = 2 ** 31 - 1;
/** Alpha is flattened onto this colour (white, as image viewers show transparency on a page). */
const BACKGROUND = { r: 255, g: 255, b: 255 };
/** Files decoded at once: sharp runs each on libuv's thread pool. */
const CONCURRENCY = 4;
/** Bumped when preparation changes, so older caches are not reused. */
const CACHE_VERSION = 1;

export interface ImageSource {
  /** Relative path in the folder or archive. */
  name: string;
  read(): Uint8Array;
}

export interface PrepareSummary {
  files: number;
  used: number;
  /** Reason → the files skipped for it (first few named in the summary line). */
  skipped: Record<string, string[]>;
}

export interface PreparedImages extends PlanarImages {
  size: Resolution;
  /** sha256 of the source's content (file names and bytes), the cache's key. */
  sourceKey: string;
  summary: PrepareSummary;
  /** True when the cached planes were used: nothing was decoded. */
  cached: boolean;
  /** Images decoded in this call (0 on a cache hit). */
  decoded: number;
  /** The relative name of each used image, in order (its first folder is its class, if any). */
  names: string[];
}

export interface PrepareOptions {
  resolution: Resolution;
  /** A file that looks like an image but does not decode is an error instead of a skip. */
  strict?: boolean;
  cacheDir?: string;
  log?: (line: string) => void;
  /** Progress of decoding: (files in all) → (files done). */
  progress?: (total: number) => (done: number) => void;
}

const UNDECODABLE = 'could not be decoded';
const strictError = (path: string, name: string, reason: string) =>
  new UserError(
    `${join(path, name)}: could not be decoded (${reason}); without --strict it would be skipped`,
  );

const isGzip = (b: Uint8Array) => b.length > 2 && b[0] === 0x1f && b[1] === 0x8b;
const isZip = (b: Uint8Array) => b.length > 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 3;

/** The files of a folder (recursively, hidden ones left out) or of an archive, sorted by name. */
export function listImageSource(path: string): { sources: ImageSource[]; key: string } {
  try {
    if (!existsSync(path)) throw new UserError(`${path}: no such file or directory`);
    const hash = createHash('sha256').update(`v${CACHE_VERSION}\0`);
    if (statSync(path).isDirectory()) {
      const names: string[] = [];
      const walk = (dir: string) => {
        for (const e of readdirSync(dir, { withFileTypes: true })) {
          if (e.name.startsWith('.')) continue;
          const full = join(dir, e.name);
          if (e.isDirectory()) walk(full);
          else if (e.isFile()) names.push(relative(path, full));
        }
      };
      walk(path);
      names.sort();
      if (!names.length) throw new UserError(`${path}: the folder has no files`);
      const sources = names.map((name) => {
        const bytes = readFileSync(join(path, name));
        hash.update(`${name}\0${bytes.length}\0`).update(bytes);
        // Read again to decode rather than held: a folder of photos can exceed memory.
        return { name, read: () => readFileSync(join(path, name)) };
      });
      return { sources, key: hash.digest('hex') };
    }
    const bytes = readFileSync(path);
    hash.update(bytes);
    const key = hash.digest('hex');
    let files: Map<string, Uint8Array>;
    if (isZip(bytes)) {
      try {
        files = new Map(Object.entries(unzipSync(bytes)));
      } catch (err) {
        throw new UserError(`${path}: unreadable zip archive (${(err as Error).message})`);
      }
    } else if (isGzip(bytes)) {
      let tar: Uint8Array;
      try {
        tar = gunzipSync(bytes, { maxOutputLength: MAX_ARCHIVE_BYTES });
      } catch (err) {
        throw new UserError(`${path}: unreadable gzip data (${(err as Error).message})`);
      }
      files = readTar(tar, path);
    } else {
      throw new UserError(
        `${path}: not a folder, .zip or .tar.gz of images, nor the CIFAR-10 archive`,
      );
    }
    const sources = [...files]
      .filter(([name, body]) => !name.endsWith('/') && body.length > 0)
      .filter(([name]) => !name.split('/').some((part) => part.startsWith('.')))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, body]) => ({ name, read: () => body }));
    if (!sources.length) throw new UserError(`${path}: the archive has no files`);
    return { sources, key };
  } catch (err) {
    throw describeFsError(err, path) ?? err;
  }
}

/** One image → RGB planes [3, S, S] (the CIFAR layout). Throws when the bytes do not decode. */
export async function decodeImage(bytes: Uint8Array, size: number): Promise<Uint8Array> {
  const { data, info } = await sharp(bytes, { failOn: 'error' })
    .rotate() // EXIF orientation
    .flatten({ background: BACKGROUND })
    .toColourspace('srgb')
    .resize(size, size, { fit: 'cover', position: 'centre', kernel: 'lanczos3' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const channels = info.channels;
  const planes = new Uint8Array(3 * size * size);
  for (let p = 0; p < size * size; p++)
    for (let c = 0; c < 3; c++)
      planes[c * size * size + p] = at(data, p * channels + Math.min(c, channels - 1));
  return planes;
}

function summaryLine(path: string, s: PrepareSummary): string {
  const reasons = Object.entries(s.skipped).map(([why, names]) => {
    const shown = names.slice(0, 3).map((n) => basename(n));
    return `${names.length} ${why}: ${shown.join(', ')}${names.length > 3 ? ', …' : ''}`;
  });
  const skipped = Object.values(s.skipped).reduce((n, l) => n + l.length, 0);
  return `${path}: ${s.used} images used, ${skipped} skipped${reasons.length ? ` (${reasons.join('; ')})` : ''}`;
}

/**
 * The images of `path` at `resolution`, from the cache when this content was prepared before.
 * Refuses (one line each) an empty source, one with no decodable image and, with `strict`, any
 * file with an image extension that does not decode.
 */
export async function prepareImages(path: string, o: PrepareOptions): Promise<PreparedImages> {
  const size = o.resolution;
  const { sources, key } = listImageSource(path);
  const dir = join(o.cacheDir ?? defaultCacheDir(), 'images');
  const stem = join(dir, `${key.slice(0, 24)}-${size}`);
  const [binPath, jsonPath] = [`${stem}.u8`, `${stem}.json`];
  const perImage = 3 * size * size;
  if (existsSync(binPath) && existsSync(jsonPath)) {
    const summary = JSON.parse(readFileSync(jsonPath, 'utf8')) as PrepareSummary;
    const pixels = new Uint8Array(readFileSync(binPath));
    if (pixels.length === summary.used * perImage) {
      const bad = summary.skipped[UNDECODABLE]?.[0];
      if (o.strict && bad)
        throw strictError(path, bad, 'it did not decode when the set was prepared');
      o.log?.(`${summaryLine(path, summary)}; prepared earlier, read from ${binPath}`);
      const gone = new Set(Object.values(summary.skipped).flat());
      return {
        names: sources.map((s) => s.name).filter((n) => !gone.has(n)),
        pixels,
        labels: new Uint8Array(summary.used),
        count: summary.used,
        size,
        sourceKey: key,
        summary,
        cached: true,
        decoded: 0,
      };
    }
  }
  const summary: PrepareSummary = { files: sources.length, used: 0, skipped: {} };
  const skip = (why: string, name: string) => (summary.skipped[why] ??= []).push(name);
  const images = new Array<Uint8Array | undefined>(sources.length);
  const candidates = sources
    .map((s, i) => ({ s, i }))
    .filter(({ s }) => {
      const ok = IMAGE_EXTENSIONS.includes(extname(s.name).toLowerCase());
      if (!ok) skip('not an image file', s.name);
      return ok;
    });
  const tick = o.progress?.(candidates.length);
  let done = 0;
  let next = 0;
  let failure: Error | undefined;
  const worker = async () => {
    while (next < candidates.length && !failure) {
      const { s, i } = at(candidates, next++);
      try {
        images[i] = await decodeImage(s.read(), size);
      } catch (err) {
        const reason = (err as Error).message.split('\n')[0];
        if (o.strict) failure ??= strictError(path, s.name, reason ?? 'unknown error');
        else skip(UNDECODABLE, s.name);
      }
      tick?.(++done);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  if (failure) throw failure;
  const kept = images.filter((im): im is Uint8Array => im !== undefined);
  summary.used = kept.length;
  if (!kept.length)
    throw new UserError(`${summaryLine(path, summary)}: no decodable PNG, JPEG or WebP image`);
  const pixels = new Uint8Array(kept.length * perImage);
  kept.forEach((im, n) => pixels.set(im, n * perImage));
  o.log?.(summaryLine(path, summary));
  try {
    mkdirSync(dir, { recursive: true });
    writeFileAtomic(binPath, pixels);
    writeFileAtomic(jsonPath, JSON.stringify(summary));
  } catch (err) {
    o.log?.(`warning: could not cache the prepared images in ${dir}: ${(err as Error).message}`);
  }
  return {
    names: sources.filter((_, i) => images[i] !== undefined).map((s) => s.name),
    pixels,
    labels: new Uint8Array(kept.length),
    count: kept.length,
    size,
    sourceKey: key,
    summary,
    cached: false,
    decoded: candidates.length,
  };
}
