/**
 * Server-side re-render of a published image: (model, seed) → 32×32 PNG with the same models
 * package the browser uses. The server stores its own render, never pixels a client sent.
 * Backends: tfjs' pure JS `cpu` runs in Node, Deno and edge runtimes; `wasm` (XNNPACK, with this
 * project's phase-split transposed convolution and its filters cached per model) renders the
 * default generator ~17× faster in Node, and as a render holds the process's one thread, every
 * request waiting behind a publish gains too (docs/benchmarks.md).
 */
import '@tensorflow/tfjs-backend-cpu';

import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';

import { sampleSeedsRgba } from '@ganstudio/models/gan';
import { encodePng } from '@ganstudio/models/image';
import { cacheWasmPhaseFilters, registerWasmConvKernels } from '@ganstudio/models/kernels';
import { loadModelFromFiles, WEIGHTS_SHARD } from '@ganstudio/models/weights';
import type { BlobStore } from '@ganstudio/storage';

import { DEFAULT_GATE } from './policy';

export interface RenderableModel {
  id: string;
  modelKey: string;
  latentDim: number;
}

export interface Renderer {
  /** The PNG of `seed` (in class `classIndex` for a class-conditional model, else null). */
  render(model: RenderableModel, seed: number, classIndex?: number | null): Promise<Uint8Array>;
  /** The tfjs backend renders run on, once the first has started. */
  readonly backend: string | undefined;
}

export interface RendererOptions {
  /** Default cpu; wasm falls back to cpu, with one warning, where its binary cannot start. */
  backend?: 'cpu' | 'wasm';
}

async function startBackend(wanted: 'cpu' | 'wasm'): Promise<'cpu' | 'wasm'> {
  tf.enableProdMode(); // no per-op debug checks, no console banner
  if (wanted === 'wasm') {
    try {
      await import('@tensorflow/tfjs-backend-wasm');
      // The phase-split transposed conv with its filters kept: ~7× the stock kernel at batch 1.
      registerWasmConvKernels();
      cacheWasmPhaseFilters();
      if (await tf.setBackend('wasm')) return 'wasm';
    } catch (err) {
      console.warn(
        `server render: wasm backend unavailable (${(err as Error).message}); using cpu`,
      );
    }
  }
  await tf.setBackend('cpu');
  return 'cpu';
}

/** Loaded generators stay in memory (a few MB each), keyed by model id. */
export function createRenderer(store: BlobStore, options: RendererOptions = {}): Renderer {
  let backend: Promise<'cpu' | 'wasm'> | undefined;
  let started: string | undefined;
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
    get backend() {
      return started;
    },
    async render(model, seed, classIndex) {
      backend ??= startBackend(options.backend ?? 'cpu');
      started = await backend;
      // The backend is process-global: set it back if something else in the process moved it.
      if (tf.getBackend() !== started) await tf.setBackend(started);
      const generator = await load(model);
      const [image] = await sampleSeedsRgba(generator, seed, 1, Infinity, classIndex ?? undefined);
      if (!image) throw new Error(`model ${model.id}: no image for seed ${seed}`);
      return encodePng(image);
    },
  };
}

export interface GateOptions {
  /** Renders running at once in this process (each holds the CPU for ~4 ms on wasm, ~70 on cpu). */
  concurrency: number;
  /** Renders allowed to wait for a slot; beyond that the caller is told to come back. */
  queue: number;
}

export class GateFullError extends Error {}

/**
 * Bounds a renderer: at most `concurrency` renders in flight and `queue` waiting; one more is
 * refused at once (GateFullError: the API answers 503 with Retry-After) instead of joining a queue
 * that grows without bound while the CPU is saturated.
 */
export function gateRenderer(renderer: Renderer, options: GateOptions = DEFAULT_GATE): Renderer {
  let running = 0;
  const waiting: (() => void)[] = [];
  return {
    get backend() {
      return renderer.backend;
    },
    async render(model, seed, classIndex) {
      if (running >= options.concurrency) {
        if (waiting.length >= options.queue) throw new GateFullError('render queue full');
        await new Promise<void>((resolve) => waiting.push(resolve));
      } else running++;
      try {
        return await renderer.render(model, seed, classIndex);
      } finally {
        const next = waiting.shift();
        if (next)
          next(); // the slot passes straight to the next waiter
        else running--;
      }
    },
  };
}
