import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openDb, type DbHandle } from '@ganstudio/db/client';
import { decodePng } from '@ganstudio/models/image';
import { createMemoryStore } from '@ganstudio/storage/memory';

import { getModel } from './features/models';
import { createRenderer } from './render';
import { seedTinyModel } from './testing';

let h: DbHandle;
const store = createMemoryStore();
beforeAll(async () => {
  h = await openDb();
  await seedTinyModel(h.db, store, 'tiny');
});
afterAll(() => h.close());

describe('server render', () => {
  it('draws the same picture on the wasm backend as on cpu, and leaks no tensors', async () => {
    const model = (await getModel(h.db, 'tiny'))!;
    const cpu = createRenderer(store);
    const wasm = createRenderer(store, { backend: 'wasm' });
    for (const seed of [0, 5, 77]) {
      const a = decodePng(await cpu.render(model, seed));
      const b = decodePng(await wasm.render(model, seed));
      expect([b.width, b.height]).toEqual([32, 32]);
      // Float rounding differs between backends: at most one step of 255 on any channel.
      expect(Math.max(...a.data.map((v, i) => Math.abs(v - b.data[i]!)))).toBeLessThanOrEqual(1);
    }
    expect([cpu.backend, wasm.backend]).toEqual(['cpu', 'wasm']);
    // Renders alternate backends in one process: each renderer moves the global one back.
    const before = tf.memory().numTensors;
    await wasm.render(model, 9);
    await cpu.render(model, 9);
    expect(tf.getBackend()).toBe('cpu');
    expect(tf.memory().numTensors).toBe(before);
  });
});
