/**
 * The share card of a published image (Open Graph / Twitter, 1200×630): the sample upscaled
 * nearest-neighbour to about 512 px (pixel-crisp, like the share page), centred on a dark card.
 * Built once per image and kept in the blob store (rebuilding it per request cost
 * ~65 ms of CPU and a 3 MB deflate each, and `?x=N` defeated any CDN).
 */
import { decodePng, encodePng, tileGrid, type RgbaImage } from '@ganstudio/models/image';
import type { BlobStore } from '@ganstudio/storage';

export const CARD_WIDTH = 1200;
export const CARD_HEIGHT = 630;
/** Crisp integer upscaling to about 512 px: ×16 for 32×32 samples, ×8 for 64×64. */
const scaleFor = (side: number) => Math.max(1, Math.floor(512 / side));
const BACKGROUND = [15, 15, 20, 255] as const;

export function renderShareCard(samplePng: Uint8Array): Uint8Array {
  const sample = decodePng(samplePng);
  const big = tileGrid([sample], { scale: scaleFor(sample.width), gap: 0 });
  const card: RgbaImage = {
    width: CARD_WIDTH,
    height: CARD_HEIGHT,
    data: new Uint8Array(CARD_WIDTH * CARD_HEIGHT * 4),
  };
  for (let p = 0; p < CARD_WIDTH * CARD_HEIGHT; p++) card.data.set(BACKGROUND, p * 4);
  const x0 = Math.max(0, Math.floor((CARD_WIDTH - big.width) / 2));
  const y0 = Math.max(0, Math.floor((CARD_HEIGHT - big.height) / 2));
  const w = Math.min(big.width, CARD_WIDTH);
  for (let y = 0; y < Math.min(big.height, CARD_HEIGHT); y++) {
    card.data.set(
      big.data.subarray(y * big.width * 4, (y * big.width + w) * 4),
      ((y0 + y) * CARD_WIDTH + x0) * 4,
    );
  }
  return encodePng(card);
}

export const cardKey = (imageId: string) => `cards/${imageId}.png`;

/** The share page's title and description (Open Graph and Twitter), the same on Next.js and the edge. */
export function shareText(image: {
  seed: number;
  score: number;
  modelName: string;
  classIndex: number | null;
  model: { resolution: number; classes: string[] | null };
}): { title: string; description: string } {
  const side = image.model.resolution;
  const cls = image.classIndex === null ? null : image.model.classes?.[image.classIndex];
  return {
    title: `${cls ? `A ${cls} · ` : ''}Seed ${image.seed} · ${image.modelName}`,
    description: `A ${side}×${side} sample${cls ? ` of the class ${cls}` : ''} from ${image.modelName}, a ${cls ? 'class-conditional ' : ''}DCGAN. Score ${image.score}.`,
  };
}

/**
 * The stored card of an image, built and stored on first request. Concurrent first requests in
 * one process share one build; across instances the worst case is one build each, same bytes.
 */
export function createCardCache(store: BlobStore) {
  const building = new Map<string, Promise<Uint8Array | undefined>>();
  return async function card(image: {
    id: string;
    pngKey: string;
  }): Promise<Uint8Array | undefined> {
    const stored = await store.get(cardKey(image.id));
    if (stored) return stored;
    let pending = building.get(image.id);
    if (!pending) {
      pending = (async () => {
        const sample = await store.get(image.pngKey);
        if (!sample) return undefined;
        const bytes = renderShareCard(sample);
        await store.put(cardKey(image.id), bytes, 'image/png');
        return bytes;
      })().finally(() => building.delete(image.id));
      building.set(image.id, pending);
    }
    return pending;
  };
}
