/**
 * What --data names: the CIFAR-10 binary archive (or its folder), or your own images (a folder,
 * .zip or .tar.gz; ./image-folder). Both come out as the same planar uint8 set.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Resolution } from '@ganstudio/models/gan';
import { loadCifar10, readTar, type CifarData } from './cifar';
import { describeFsError, UserError } from './errors';
import { MAX_ARCHIVE_BYTES, prepareImages, type PrepareOptions } from './image-folder';

export interface TrainingSet {
  data: CifarData;
  kind: 'cifar10' | 'images';
  /** Names the reference set next to every FID, e.g. "cifar10-train" or "images:faces@1a2b…×64". */
  description: string;
  /** The content key FID statistics are cached under. */
  key?: string;
}

const CIFAR_BATCH = /(^|\/)(data_batch_[1-5]|test_batch)\.bin$/;

/** True when `path` is the CIFAR-10 binary release (archive, its folder or the batches folder). */
export function isCifar10(path: string): boolean {
  try {
    if (statSync(path).isDirectory())
      return (
        existsSync(join(path, 'cifar-10-batches-bin')) ||
        existsSync(join(path, 'data_batch_1.bin')) ||
        existsSync(join(path, 'test_batch.bin'))
      );
    const bytes = readFileSync(path);
    if (!(bytes[0] === 0x1f && bytes[1] === 0x8b)) return false;
    const names = readTar(gunzipSync(bytes, { maxOutputLength: MAX_ARCHIVE_BYTES }), path).keys();
    for (const name of names) if (CIFAR_BATCH.test(name)) return true;
    return false;
  } catch {
    return false; // the loader that runs next says what is wrong, in its own words
  }
}

/** The training images of --data at `resolution`. */
export async function loadTrainingSet(
  path: string,
  o: Omit<PrepareOptions, 'resolution'> & { resolution: Resolution },
): Promise<TrainingSet> {
  if (!existsSync(path)) throw describeFsError({ code: 'ENOENT' }, path)!;
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
    kind: 'images',
    description: `images:${basename(path)}@${set.sourceKey.slice(0, 12)}×${o.resolution}`,
    key: `${set.sourceKey.slice(0, 24)}-${o.resolution}`,
  };
}
