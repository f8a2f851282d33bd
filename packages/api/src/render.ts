/**
 * Server-side re-render of a published image: (model, seed) → 32×32 PNG with the same models
 * package the browser uses, on tfjs' pure JS cpu backend (runs in Node, Deno and edge runtimes).
 * The server stores its own render, never pixels a client sent.
 */
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import {
  encodePng,
  generate,
  loadModelFromFiles,
  seededLatents,
  tensorToRgba,
  WEIGHTS_SHARD,
} from '@ganstudio/models';
import type { BlobStore } from '@ganstudio/storage';

export interface RenderableModel {
  id: string;
  modelKey: string;
  latentDim: number;
}

export interface Renderer {
  render(model: RenderableModel, seed: number): Promise<Uint8Array>;
}

/** Loaded generators stay in memory (a few MB each), keyed by model id. */
export function createRenderer(store: BlobStore): Renderer {
  const cache = new Map<string, Promise<LayersModel>>();
  const load = (model: RenderableModel) => {
    let pending = cache.get(model.id);
    if (!pending) {
      pending = (async () => {
        const jsonBytes = await store.get(model.modelKey);
        const shardKey = model.modelKey.replace(/[^/]+$/, WEIGHTS_SHARD);
        const weights = await store.get(shardKey);
        if (!jsonBytes || !weights)
          throw new Error(`model ${model.id}: files missing from the blob store`);
        return loadModelFromFiles(JSON.parse(new TextDecoder().decode(jsonBytes)), weights);
      })();
      pending.catch(() => cache.delete(model.id));
      cache.set(model.id, pending);
    }
    return pending;
  };
  return {
    async render(model, seed) {
      if (tf.getBackend() !== 'cpu') {
        tf.enableProdMode(); // no per-op debug checks, no console banner
        await tf.setBackend('cpu');
      }
      const generator = await load(model);
      const z = tf.tensor2d(seededLatents(seed, 1, model.latentDim), [1, model.latentDim]);
      const images = generate(generator, z); // → [1, 32, 32, 3]
      try {
        const [image] = await tensorToRgba(images);
        return encodePng(image!);
      } finally {
        tf.dispose([z, images]);
      }
    },
  };
}
