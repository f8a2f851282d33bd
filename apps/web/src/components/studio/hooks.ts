'use client';

/**
 * The studio's state, one hook per job: the models and the backend (useModels), the loaded
 * generator (useGenerator), the seeded grid and the picked tiles (useGrid), the latent walks
 * (useMorph) and publishing (usePublish). Studio composes them; none knows about the page.
 */
import { loadLayersModel, type LayersModel } from '@tensorflow/tfjs-layers';
import { useCallback, useEffect, useState } from 'react';

import {
  generateFromLatents,
  interpolateClasses,
  sampleSeedsRgba,
  seedLatents,
  slerp,
} from '@ganstudio/models/gan';
import { tensorToRgba, type RgbaImage } from '@ganstudio/models/image';

import { postJson } from '../api-client';
import type { Backend } from './backends';
import { pickBackend } from './pick-backend';

export interface ModelInfo {
  id: string;
  name: string;
  modelJsonUrl: string;
  sizeBytes: number;
  latentDim: number;
  /** Image side: 32 or 64. */
  resolution: number;
  quantization: string;
  note: string | null;
  /** A class-conditional model's class names (null: unconditional). */
  classes: string[] | null;
}

/** Tiles in the grid (4×4): tile i is seed + i. */
export const GRID = 16;
/** Images along a latent walk. */
const STEPS = 8;

/** The published models and the tfjs backend that started; the chosen model stays chosen if listed. */
export function useModels(initialModel: string | undefined, backendChoice: Backend | undefined) {
  const [models, setModels] = useState<ModelInfo[]>([]);
  const [modelId, setModelId] = useState<string | undefined>(initialModel);
  const [backend, setBackend] = useState<string>('starting…');
  const [error, setError] = useState('');
  useEffect(() => {
    pickBackend(backendChoice).then(setBackend, (e: Error) =>
      setBackend(`unavailable: ${e.message}`),
    );
    fetch('/api/models')
      .then((r) => r.json() as Promise<{ items: ModelInfo[] }>)
      .then(({ items }) => {
        setModels(items);
        setModelId((current) =>
          current && items.some((m) => m.id === current) ? current : items[0]?.id,
        );
      })
      .catch(() => setError('could not list models'));
  }, [backendChoice]);
  return { models, model: models.find((m) => m.id === modelId), setModelId, backend, error };
}

/** The model's generator, loaded once the backend is up; `progress` in 0–1 while it downloads. */
export function useGenerator(model: ModelInfo | undefined, backend: string) {
  const [generator, setGenerator] = useState<LayersModel | null>(null);
  const [progress, setProgress] = useState(0);
  const [error, setError] = useState('');
  useEffect(() => {
    if (!model || backend === 'starting…') return;
    let cancelled = false;
    setGenerator(null);
    setProgress(0);
    loadLayersModel(new URL(model.modelJsonUrl, window.location.href).href, {
      onProgress: (p) => !cancelled && setProgress(p),
    }).then(
      (g) => {
        if (cancelled) g.dispose();
        else setGenerator(g);
      },
      (e: Error) => setError(`could not load the model: ${e.message}`),
    );
    return () => {
      cancelled = true;
    };
  }, [model, backend]);
  return { generator, progress, error };
}

/**
 * The picked class of a conditional model and the class a morph goes to: on a new model, the
 * class a share link asked for where the model has it, else its first.
 */
export function useClasses(classes: string[] | null, initialClass: string | undefined) {
  const [classIdx, setClassIdx] = useState(0);
  const [toClass, setToClass] = useState(1);
  useEffect(() => {
    const asked = classes?.indexOf(initialClass ?? '') ?? -1;
    setClassIdx(asked >= 0 ? asked : 0);
    setToClass(asked === 1 ? 0 : 1);
  }, [classes, initialClass]);
  return { classIdx, setClassIdx, toClass, setToClass };
}

/**
 * The 4×4 grid of seeds seed … seed + 15 (in the picked class), sampled by the same function as
 * the CLI's `sample` and the server render, and up to two picked tiles. A new grid clears the picks.
 */
export function useGrid(
  generator: LayersModel | null,
  model: ModelInfo | undefined,
  seed: number,
  classIdx: number,
) {
  const [tiles, setTiles] = useState<RgbaImage[]>([]);
  const [picked, setPicked] = useState<number[]>([]);
  const sample = useCallback(
    async (base: number) => {
      if (!generator || !model) return;
      const cls = model.classes ? Math.min(classIdx, model.classes.length - 1) : undefined;
      setTiles(await sampleSeedsRgba(generator, base, GRID, Infinity, cls));
      setPicked([]);
    },
    [generator, model, classIdx],
  );
  useEffect(() => {
    void sample(seed);
  }, [sample, seed]);
  /** Picks or unpicks tile i; a third pick drops the oldest. */
  const toggle = (i: number) =>
    setPicked((p) => (p.includes(i) ? p.filter((x) => x !== i) : [...p, i].slice(-2)));
  return { tiles, picked, toggle };
}

/**
 * Walks in z, cleared by a new grid: between two picked tiles (slerp, as DCGAN's interpolations,
 * Radford et al. 2015 §6.1), or one tile's z from its class to another (the class table mixed
 * linearly). Each walk is [STEPS, H, W, 3] images read back as RGBA.
 */
export function useMorph(
  generator: LayersModel | null,
  model: ModelInfo | undefined,
  tiles: RgbaImage[],
) {
  const [path, setPath] = useState<RgbaImage[]>([]);
  useEffect(() => setPath([]), [tiles]);
  async function show(images: ReturnType<typeof generateFromLatents>) {
    setPath(await tensorToRgba(images));
    images.dispose();
  }
  async function between(seeds: [number, number], classIdx: number | undefined) {
    if (!generator || !model) return;
    const dim = model.latentDim;
    const [a, b] = seeds.map((s) => seedLatents(s, 1, dim)) as [Float32Array, Float32Array];
    const z = new Float32Array(STEPS * dim);
    for (let s = 0; s < STEPS; s++) z.set(slerp(a, b, s / (STEPS - 1)), s * dim);
    await show(generateFromLatents(generator, z, classIdx));
  }
  async function acrossClasses(tileSeed: number, from: number, to: number) {
    if (!generator || !model) return;
    const z = seedLatents(tileSeed, 1, model.latentDim);
    await show(interpolateClasses(generator, z, from, to, STEPS));
  }
  return { path, between, acrossClasses };
}

/** Publishing one tile (the server re-renders it from model + seed + class): a status line and its share link. */
export function usePublish(tiles: RgbaImage[]) {
  const [status, setStatus] = useState('');
  const [shareUrl, setShareUrl] = useState<string | null>(null);
  useEffect(() => setShareUrl(null), [tiles]);
  async function publish(body: { modelId: string; seed: number; class?: number }) {
    setStatus('publishing…');
    const { res, data } = await postJson<{ shareUrl?: string }>('/api/images', body);
    if (!res.ok || !data.shareUrl) {
      setStatus(`publish failed: ${data.error?.message ?? res.status}`);
      return;
    }
    setShareUrl(data.shareUrl);
    setStatus('published');
  }
  return { status, setStatus, shareUrl, publish };
}
