/** Seeded sample grids as PNG bytes (training's per-epoch grids, `bundle` and `sample`). */
import type { LayersModel } from '@tensorflow/tfjs-layers';

import { classCountOf, sampleClassRows, sampleSeedsRgba } from '@ganstudio/models/gan';
import { encodePng, tensorToRgba, tileGrid } from '@ganstudio/models/image';

/**
 * Tile i is seed `seed + i`: the image the gallery shows and renders for that seed (in `classIndex`
 * for a conditional generator). A conditional generator given no class draws one row per class
 * at the same seeds, ⌈count / classes⌉ columns.
 */
export async function sampleGridPng(
  generator: LayersModel,
  seed: number,
  count: number,
  scale = 1,
  truncation = Infinity,
  classIndex?: number,
): Promise<Uint8Array> {
  const classes = classCountOf(generator);
  if (classes && classIndex === undefined) {
    const columns = Math.max(1, Math.ceil(count / classes));
    const images = sampleClassRows(generator, seed, columns, truncation);
    try {
      return encodePng(tileGrid(await tensorToRgba(images), { scale, columns }));
    } finally {
      images.dispose();
    }
  }
  return encodePng(
    tileGrid(await sampleSeedsRgba(generator, seed, count, truncation, classIndex), { scale }),
  );
}
