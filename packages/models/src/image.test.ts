import '@tensorflow/tfjs-backend-cpu';

import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import {
  decodePng,
  encodePng,
  floatsToRgba,
  tensorToRgba,
  tileGrid,
  type RgbaImage,
} from './image';

describe('pixels', () => {
  it('map [-1, 1] to [0, 255], clamping outliers and opaque alpha', () => {
    const [img] = floatsToRgba([-1, 0, 1, 2, -3, Number.NaN], [1, 1, 2, 3]);
    expect(Array.from(img!.data)).toEqual([0, 128, 255, 255, 255, 0, 128, 255]);
  });

  it('read tensors without disposing them or leaking', async () => {
    const t = tf.fill([2, 4, 4, 3], 1);
    const before = tf.memory().numTensors;
    const imgs = await tensorToRgba(t);
    expect(imgs).toHaveLength(2);
    expect(imgs[1]!.data[0]).toBe(255);
    expect(tf.memory().numTensors).toBe(before);
    t.dispose();
  });

  it('tile images row-major with gaps and crisp integer upscaling', () => {
    const solid = (v: number): RgbaImage => ({
      width: 2,
      height: 2,
      data: new Uint8Array(16).fill(v),
    });
    const grid = tileGrid([solid(10), solid(20), solid(30)], {
      columns: 2,
      gap: 1,
      scale: 2,
      background: [0, 0, 0, 255],
    });
    expect([grid.width, grid.height]).toEqual([2 * 4 + 3, 2 * 4 + 3]);
    const px = (x: number, y: number) => grid.data[(y * grid.width + x) * 4];
    expect(px(0, 0)).toBe(0); // gap
    expect(px(1, 1)).toBe(10);
    expect(px(4, 4)).toBe(10); // 2×2 image upscaled to 4×4 fills x, y in [1, 4]
    expect(px(6, 1)).toBe(20);
    expect(px(1, 6)).toBe(30);
    expect(px(6, 6)).toBe(0); // no fourth image
  });

  it('encode PNGs that decode back to the same pixels', () => {
    const data = new Uint8Array(7 * 5 * 4).map((_, i) => (i * 37) % 256);
    const png = encodePng({ width: 7, height: 5, data });
    const back = decodePng(png);
    expect([back.width, back.height]).toEqual([7, 5]);
    expect(Array.from(back.data)).toEqual(Array.from(data));
  });

  it('decode refuses what it cannot read', () => {
    expect(() => decodePng(new Uint8Array([1, 2, 3]))).toThrow(/not a PNG/);
  });

  it('refuse mismatched sizes with a clear message', () => {
    expect(() => encodePng({ width: 2, height: 2, data: new Uint8Array(3) })).toThrow(
      /does not match/,
    );
    expect(() => floatsToRgba([0], [1, 1, 1, 2])).toThrow(/expected \[n, h, w, 1\|3\]/);
    expect(() => tileGrid([])).toThrow(/at least one image/);
  });
});
