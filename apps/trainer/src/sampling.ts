/** Seeded sample grids as PNG bytes (training's per-epoch grids, `bundle` and `sample`). */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { sampleSeedsRgba } from '@ganstudio/models/gan';
import { encodePng, tileGrid } from '@ganstudio/models/image';

/** Tile i is seed `seed + i`: the image the gallery shows and renders for that seed. */
export async function sampleGridPng(
  generator: LayersModel,
  seed: number,
  count: number,
  scale = 1,
  truncation = Infinity,
): Promise<Uint8Array> {
  return encodePng(tileGrid(await sampleSeedsRgba(generator, seed, count, truncation), { scale }));
}
