/**
 * A set of real images for the gallery's judge game: `count` CIFAR-10 test images,
 * chosen by a seeded permutation of the test batch (so the set repeats), written as
 *   real-set.json   id, name, source, seed, the test-batch index and class of every image
 *   images.bin      count × 32 × 32 × 3 bytes, RGB, row-major (HWC)
 * `upload --real-set DIR` (and the gallery's first start, for packages/bundled/real-set)
 * registers them. The test batch, not the training set, so no image is one the GAN trained on.
 */
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';

import { at } from '@ganstudio/models/arrays';
import { writeFileAtomic } from '@ganstudio/runs/fs-atomic';

import { UserError } from '../errors';
import { epochPermutation } from './batches';
import { CLASS_NAMES, loadCifar10 } from './cifar';

export interface RealSetManifest {
  id: string;
  name: string;
  source: string;
  seed: number;
  count: number;
  indices: number[];
  labels: number[];
  /** The labels' names, index order (the judge matches a conditional model's classes by name). */
  classes: string[];
}

export function writeRealSet(o: {
  data: string;
  count: number;
  seed: number;
  out: string;
  id?: string;
}): RealSetManifest {
  const test = loadCifar10(o.data, 'test');
  if (o.count > test.count)
    throw new UserError(
      `--count ${o.count} is more than the ${test.count} test images in ${o.data}`,
    );
  const order = epochPermutation(test.count, o.seed, 0);
  const indices = Array.from(order.subarray(0, o.count));
  const pixels = new Uint8Array(o.count * 3072);
  indices.forEach((src, i) => {
    const planes = test.pixels.subarray(src * 3072, (src + 1) * 3072);
    for (let p = 0; p < 1024; p++)
      for (let c = 0; c < 3; c++) pixels[i * 3072 + p * 3 + c] = at(planes, c * 1024 + p);
  });
  const manifest: RealSetManifest = {
    id: o.id ?? `cifar10-test-${o.count}-s${o.seed}`,
    name: `CIFAR-10 test images (${o.count})`,
    source: `CIFAR-10 test batch (test_batch.bin of ${basename(o.data)}), ${o.count} of ${test.count} images chosen by a seeded permutation (seed ${o.seed}); classes: ${CLASS_NAMES.join(', ')}`,
    seed: o.seed,
    count: o.count,
    indices,
    labels: indices.map((src) => at(test.labels, src)),
    classes: [...CLASS_NAMES],
  };
  mkdirSync(o.out, { recursive: true });
  writeFileAtomic(join(o.out, 'images.bin'), pixels);
  writeFileAtomic(join(o.out, 'real-set.json'), JSON.stringify(manifest) + '\n');
  return manifest;
}
