/**
 * What --data names: the CIFAR-10 binary archive (or its folder), or your own images (a folder,
 * .zip or .tar.gz; ./image-folder). Both come out as the same planar uint8 set.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { constants, gunzipSync } from 'node:zlib';

import { at } from '@ganstudio/models/arrays';
import type { Resolution } from '@ganstudio/models/gan';

import { describeFsError, UserError } from '../errors';
import { CLASS_NAMES, loadCifar10, type PlanarImages } from './cifar';
import { prepareImages, type PrepareOptions } from './image-folder';

export interface TrainingSet {
  data: PlanarImages;
  /** Relative names of your own images, in order (absent for CIFAR-10). */
  names?: string[];
  kind: 'cifar10' | 'images';
  /** Names the reference set next to every FID, e.g. "cifar10-train" or "images:faces@1a2b…×64". */
  description: string;
  /** The content key FID statistics are cached under. */
  key?: string;
}

const CIFAR_NAME = /(^|\/)(cifar-10-batches-bin\/|(data_batch_[1-5]|test_batch)\.bin$)/;
/** Compressed bytes read to see an archive's first entries. */
const PEEK_BYTES = 64 * 1024;

/** Names of the tar headers that lie wholly inside `tar` (a prefix of an archive). */
function tarHeadNames(tar: Uint8Array): string[] {
  const names: string[] = [];
  const text = (start: number, len: number) =>
    new TextDecoder().decode(tar.subarray(start, start + len)).replace(/\0.*$/s, '');
  for (let off = 0; off + 512 <= tar.length;) {
    const name = text(off, 100);
    const size = parseInt(text(off + 124, 12).trim(), 8);
    if (!name || !Number.isFinite(size)) break;
    names.push(name);
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return names;
}

/** True when `path` is the CIFAR-10 binary release (archive, its folder or the batches folder). */
export function isCifar10(path: string): boolean {
  try {
    if (statSync(path).isDirectory())
      return (
        existsSync(join(path, 'cifar-10-batches-bin')) ||
        existsSync(join(path, 'data_batch_1.bin')) ||
        existsSync(join(path, 'test_batch.bin'))
      );
    // The first tar headers are enough (the official archive opens with cifar-10-batches-bin/
    // and a batch): inflating all 184 MB to read names cost ~1.3 s per call.
    const head = Buffer.alloc(PEEK_BYTES);
    const fd = openSync(path, 'r');
    const got = readSync(fd, head, 0, PEEK_BYTES, 0);
    closeSync(fd);
    if (!(head[0] === 0x1f && head[1] === 0x8b)) return false;
    const tar = gunzipSync(head.subarray(0, got), { finishFlush: constants.Z_SYNC_FLUSH });
    return tarHeadNames(tar).some((name) => CIFAR_NAME.test(name));
  } catch {
    return false; // the loader that runs next says what is wrong, in its own words
  }
}

/** The training images of --data at `resolution`. */
export async function loadTrainingSet(
  path: string,
  o: Omit<PrepareOptions, 'resolution'> & { resolution: Resolution },
): Promise<TrainingSet> {
  if (!existsSync(path))
    throw (
      describeFsError({ code: 'ENOENT' }, path) ??
      new UserError(`${path}: no such file or directory`)
    );
  if (isCifar10(path)) {
    if (o.resolution !== 32)
      throw new UserError(
        `${path}: CIFAR-10 images are 32×32; --resolution ${o.resolution} needs your own images (a folder, .zip or .tar.gz)`,
      );
    return { data: loadCifar10(path), kind: 'cifar10', description: 'cifar10-train' };
  }
  const set = await prepareImages(path, o);
  return {
    data: set,
    names: set.names,
    kind: 'images',
    description: `images:${basename(path)}@${set.sourceKey.slice(0, 12)}×${o.resolution}`,
    key: `${set.sourceKey.slice(0, 24)}-${o.resolution}`,
  };
}

/**
 * What a run records about its data: a name, a digest of the images it trained on (their pixels
 * and labels as prepared, so an archive and its extracted folder are one set) and their count.
 * Never where the data lay: a recipe travels with bundles and galleries, a path names a machine.
 */
export interface DatasetIdentity {
  name: string;
  digest: string;
  images: number;
}

export function datasetIdentity(
  set: Pick<TrainingSet, 'data' | 'kind'>,
  path: string,
): DatasetIdentity {
  const hash = createHash('sha256');
  hash.update(set.data.pixels);
  hash.update(set.data.labels);
  return {
    name: set.kind === 'cifar10' ? 'cifar10-train' : basename(path.replace(/[\\/]+$/, '')),
    digest: `sha256:${hash.digest('hex').slice(0, 16)}`,
    images: set.data.count,
  };
}

/** Labels are bytes: 256 classes at most (the model itself allows more). */
export const MAX_FOLDER_CLASSES = 256;

/**
 * The classes of a set for a class-conditional run: CIFAR-10's ten, or for your own images one
 * per subfolder of --data (its name the class, classes sorted by name), whose labels replace the
 * set's. Refused, one line each: images in the root folder, a single class, more than 256, and a
 * class with fewer images than one batch (it would be drawn too rarely to learn).
 */
export function classesOf(set: TrainingSet, path: string, batchSize: number): string[] {
  let names: string[];
  if (set.kind === 'cifar10') names = [...CLASS_NAMES];
  else {
    let files = (set.names ?? []).map((n) => n.split(/[\\/]/));
    // An archive of one folder (set/cats/a.png, set/dogs/b.png): its classes are one level down.
    while (files.length && files.every((p) => p.length > 2 && p[0] === at(files, 0)[0]))
      files = files.map((p) => p.slice(1));
    const loose = files.filter((p) => p.length < 2).map((p) => p.join('/'));
    if (loose.length)
      throw new UserError(
        `${path}: --conditional takes each subfolder as a class, but ${loose.length} image${loose.length > 1 ? 's lie' : ' lies'} in the folder itself (${loose.slice(0, 3).join(', ')}${loose.length > 3 ? ', …' : ''}): move ${loose.length > 1 ? 'them' : 'it'} into a class folder`,
      );
    const classOf = files.map((p) => at(p, 0));
    names = [...new Set(classOf)].sort();
    if (names.length < 2)
      throw new UserError(
        `${path}: --conditional needs at least two classes (subfolders with images), found ${names.length}${names[0] ? ` (${names[0]})` : ''}`,
      );
    if (names.length > MAX_FOLDER_CLASSES)
      throw new UserError(
        `${path}: ${names.length} class folders; --conditional takes at most ${MAX_FOLDER_CLASSES}`,
      );
    set.data.labels = Uint8Array.from(classOf, (c) => names.indexOf(c));
  }
  const counts = new Array<number>(names.length).fill(0);
  for (let i = 0; i < set.data.count; i++) {
    const c = at(set.data.labels, i);
    counts[c] = at(counts, c) + 1;
  }
  const small = names.filter((_, c) => at(counts, c) < batchSize);
  if (small.length)
    throw new UserError(
      `${path}: class ${small.map((n) => `${n} (${counts[names.indexOf(n)]} images)`).join(', ')} ha${small.length > 1 ? 've' : 's'} fewer images than one batch (--batch-size ${batchSize})`,
    );
  return names;
}
