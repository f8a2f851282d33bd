/**
 * A folder of generated images for tests (no downloads): mixed sizes, formats (PNG, JPEG, WebP)
 * and modes (RGB, RGBA, greyscale), in nested folders, plus one corrupt PNG and one text file.
 * Images are smooth colour gradients with a random blob, so a GAN has something to learn.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

import { createRng } from '@ganstudio/models/gan';

export interface ImageFixture {
  dir: string;
  /** Decodable images written. */
  images: number;
  corrupt: string[];
  notImages: string[];
}

export async function writeImageFolder(
  dir: string,
  count: number,
  seed = 1,
): Promise<ImageFixture> {
  const rng = createRng(seed);
  const formats = ['png', 'jpeg', 'webp'] as const;
  for (let i = 0; i < count; i++) {
    const w = 40 + Math.floor(rng() * 90);
    const h = 40 + Math.floor(rng() * 90);
    const mode = i % 5 === 0 ? 'grey' : i % 7 === 0 ? 'rgba' : 'rgb';
    const channels = mode === 'grey' ? 1 : mode === 'rgba' ? 4 : 3;
    const raw = Buffer.alloc(w * h * channels);
    const [r0, g0, b0] = [rng() * 255, rng() * 255, rng() * 255];
    const [cx, cy, radius] = [rng() * w, rng() * h, 8 + rng() * 20];
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const inBlob = (x - cx) ** 2 + (y - cy) ** 2 < radius ** 2;
        const px = [
          inBlob ? 255 - r0 : (r0 * x) / w,
          inBlob ? 255 - g0 : (g0 * y) / h,
          inBlob ? 255 - b0 : b0,
          inBlob ? 255 : 128,
        ];
        for (let c = 0; c < channels; c++) raw[(y * w + x) * channels + c] = px[c]!;
      }
    const format = formats[i % formats.length]!;
    const sub = join(dir, `part-${i % 3}`, i % 2 ? 'deeper' : '');
    mkdirSync(sub, { recursive: true });
    const ext = format === 'jpeg' ? 'jpg' : format;
    const image = sharp(raw, { raw: { width: w, height: h, channels } });
    const bytes =
      format === 'png'
        ? await image.png().toBuffer()
        : format === 'jpeg'
          ? await image.jpeg({ quality: 90 }).toBuffer()
          : await image.webp({ quality: 90 }).toBuffer();
    writeFileSync(join(sub, `img-${String(i).padStart(4, '0')}.${ext}`), bytes);
  }
  // A PNG cut short after its header, and a file that is not an image at all.
  const corrupt = join(dir, 'part-0', 'broken.png');
  writeFileSync(
    corrupt,
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
  );
  const note = join(dir, 'README.txt');
  writeFileSync(note, 'photos from the garden\n');
  return { dir, images: count, corrupt: [corrupt], notImages: [note] };
}
