// The share image: the published 32×32 PNG upscaled ×16 with nearest neighbour (pixel-crisp, like
// the page), centred on a 1200×630 card as Open Graph and Twitter expect.
import { decodePng, encodePng, type RgbaImage } from '@ganstudio/models';
import { getImage } from '@ganstudio/db/queries';
import { getContext } from '~/server/context';

export const dynamic = 'force-dynamic';

const W = 1200;
const H = 630;
const SCALE = 16;

export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const { db, store } = await getContext();
  const image = /^[A-Za-z0-9_-]{1,64}$/.test(id) ? await getImage(db, id) : undefined;
  const bytes = image ? await store.get(image.pngKey) : undefined;
  if (!image || !bytes) return new Response('not found', { status: 404 });
  const src = decodePng(bytes);
  const card: RgbaImage = { width: W, height: H, data: new Uint8Array(W * H * 4) };
  for (let p = 0; p < W * H; p++) card.data.set([15, 15, 20, 255], p * 4);
  const x0 = Math.floor((W - src.width * SCALE) / 2);
  const y0 = Math.floor((H - src.height * SCALE) / 2);
  for (let y = 0; y < src.height * SCALE; y++) {
    for (let x = 0; x < src.width * SCALE; x++) {
      const s = (Math.floor(y / SCALE) * src.width + Math.floor(x / SCALE)) * 4;
      card.data.set(src.data.subarray(s, s + 4), ((y0 + y) * W + x0 + x) * 4);
    }
  }
  return new Response(encodePng(card) as Uint8Array<ArrayBuffer>, {
    headers: { 'content-type': 'image/png', 'cache-control': 'public, max-age=31536000, immutable' },
  });
}
