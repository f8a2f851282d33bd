'use client';

/**
 * The studio: loads the chosen generator in the visitor's browser (tfjs: WebGPU where the browser
 * offers an adapter, else WebGL, else wasm, else cpu — and says which), samples a 4×4 grid where tile i is seed + i, publishes one tile (the
 * server re-renders it from model + seed), and interpolates between two tiles (slerp in z). A
 * class-conditional model draws the grid in the picked class (each tile says it), publishes in it,
 * and also interpolates one tile's z from its class to another.
 */
import * as tf from '@tensorflow/tfjs-core';

import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';

import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { loadLayersModel, type LayersModel } from '@tensorflow/tfjs-layers';
import { useCallback, useEffect, useRef, useState } from 'react';

import {
  generateFromLatents,
  gridSeed,
  interpolateClasses,
  MAX_SEED,
  sampleSeedsRgba,
  seedLatents,
  slerp,
} from '@ganstudio/models/gan';
import { tensorToRgba, type RgbaImage } from '@ganstudio/models/image';
import { cacheWasmPhaseFilters, registerWasmConvKernels } from '@ganstudio/models/kernels';

import { postJson } from './api-client';
import { BACKENDS, type Backend } from './backends';

interface ModelInfo {
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

const GRID = 16;
const STEPS = 8;

/** The first backend that starts, from `only` if given (?backend= in the URL, to compare or debug). */
async function pickBackend(only?: Backend): Promise<string> {
  for (const name of only ? [only] : BACKENDS) {
    try {
      if (name === 'webgpu') {
        // Loaded only where the browser opens a hardware adapter (a software one, SwiftShader, is
        // slower than WebGL); the backend registers itself on import when navigator.gpu exists.
        const gpu = (navigator as { gpu?: GPU }).gpu;
        const adapter = (await gpu?.requestAdapter()) as
          | { isFallbackAdapter?: boolean; info?: { isFallbackAdapter?: boolean } }
          | null
          | undefined;
        if (!adapter || adapter.isFallbackAdapter || adapter.info?.isFallbackAdapter) continue;
        await import('@tensorflow/tfjs-backend-webgpu');
      }
      if (name === 'wasm') {
        setWasmPaths('/tfjs-wasm/');
        await import('@tensorflow/tfjs-backend-wasm');
        // The same weights sample every grid: keep the transposed convs' phase filters (~7× the
        // stock kernel on the server's batch of 1; packages/api/bench/render.ts).
        registerWasmConvKernels();
        cacheWasmPhaseFilters();
      }
      if (await tf.setBackend(name)) {
        await tf.ready();
        return name;
      }
    } catch {
      // try the next one
    }
  }
  throw new Error('no TensorFlow.js backend could start in this browser');
}

/** `className` sizes the tile (the canvas fills it, square): the grid's cells shrink on narrow screens. */
function Tile({
  image,
  selected,
  label,
  caption,
  onClick,
  className = 'w-full',
}: {
  image: RgbaImage;
  selected?: boolean;
  label: string;
  /** A word under the image (its class). */
  caption?: string | undefined;
  onClick?: () => void;
  className?: string;
}) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (ctx)
      ctx.putImageData(
        new ImageData(new Uint8ClampedArray(image.data), image.width, image.height),
        0,
        0,
      );
  }, [image]);
  return (
    <button
      type="button"
      onClick={onClick}
      aria-label={label}
      aria-pressed={selected}
      className={`${className} rounded p-0.5 ${selected ? 'bg-indigo-500' : 'bg-transparent hover:bg-zinc-700'}`}
    >
      <canvas
        ref={ref}
        width={image.width}
        height={image.height}
        className="pixelated block aspect-square w-full"
      />
      {caption && (
        <span data-testid="tile-class" className="block truncate text-center text-xs text-zinc-400">
          {caption}
        </span>
      )}
    </button>
  );
}

/** A picker of a conditional model's classes, by index. */
function ClassSelect({
  label,
  classes,
  value,
  onChange,
}: {
  label: string;
  classes: string[];
  value: number;
  onChange: (index: number) => void;
}) {
  return (
    <select
      aria-label={label}
      value={value}
      onChange={(e) => onChange(Number(e.target.value))}
      className="rounded bg-zinc-800 px-2 py-1"
    >
      {classes.map((c, i) => (
        <option key={c} value={i}>
          {c}
        </option>
      ))}
    </select>
  );
}

export function Studio({
  initialModel,
  initialSeed,
  initialClass,
  backendChoice,
}: {
  initialModel?: string;
  initialSeed?: number;
  /** A class name (share links: "sample more like this" keeps the image's class). */
  initialClass?: string;
  backendChoice?: Backend;
}) {
  const [models, setModels] = useState<ModelInfo[]>([]);
  const [modelId, setModelId] = useState<string | undefined>(initialModel);
  const [backend, setBackend] = useState<string>('starting…');
  const [progress, setProgress] = useState(0);
  const [generator, setGenerator] = useState<LayersModel | null>(null);
  const [seed, setSeed] = useState(initialSeed ?? Math.floor(Math.random() * 1_000_000));
  const [seedText, setSeedText] = useState(String(initialSeed ?? ''));
  const [tiles, setTiles] = useState<RgbaImage[]>([]);
  const [picked, setPicked] = useState<number[]>([]);
  const [path, setPath] = useState<RgbaImage[]>([]);
  const [status, setStatus] = useState<string>('');
  const [shareUrl, setShareUrl] = useState<string | null>(null);
  const [classIdx, setClassIdx] = useState(0);
  const [toClass, setToClass] = useState(1);
  const model = models.find((m) => m.id === modelId);
  const classes = model?.classes ?? null;
  const className = classes?.[classIdx];

  useEffect(() => {
    // A new model: the class the link asked for where it has it, else its first.
    const asked = classes?.indexOf(initialClass ?? '') ?? -1;
    setClassIdx(asked >= 0 ? asked : 0);
    setToClass(asked === 1 ? 0 : 1);
  }, [classes, initialClass]);

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
      .catch(() => setStatus('could not list models'));
  }, [backendChoice]);

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
      (e: Error) => setStatus(`could not load the model: ${e.message}`),
    );
    return () => {
      cancelled = true;
    };
  }, [model, backend]);

  const sample = useCallback(
    async (base: number) => {
      if (!generator || !model) return;
      // The same function as the CLI's `sample` and the server render: tile i is seed base + i.
      const cls = model.classes ? Math.min(classIdx, model.classes.length - 1) : undefined;
      setTiles(await sampleSeedsRgba(generator, base, GRID, Infinity, cls));
      setPicked([]);
      setPath([]);
      setShareUrl(null);
    },
    [generator, model, classIdx],
  );

  useEffect(() => {
    void sample(seed);
  }, [sample, seed]);

  async function interpolate() {
    if (!generator || !model || picked.length !== 2) return;
    const dim = model.latentDim;
    const [a, b] = picked.map((i) => seedLatents(gridSeed(seed, i), 1, dim)) as [
      Float32Array,
      Float32Array,
    ];
    const z = new Float32Array(STEPS * dim);
    for (let s = 0; s < STEPS; s++) z.set(slerp(a, b, s / (STEPS - 1)), s * dim);
    const out = generateFromLatents(generator, z, classes ? classIdx : undefined); // → [STEPS, H, W, 3]
    setPath(await tensorToRgba(out));
    out.dispose();
  }

  /** The picked tile's z, from the grid's class to `toClass` (the class table mixed linearly). */
  async function interpolateClass() {
    if (!generator || !model || !classes || picked.length === 0) return;
    const z = seedLatents(gridSeed(seed, picked[0] ?? 0), 1, model.latentDim);
    const out = interpolateClasses(generator, z, classIdx, toClass, STEPS); // → [STEPS, H, W, 3]
    setPath(await tensorToRgba(out));
    out.dispose();
  }

  async function publish() {
    if (!model || picked.length === 0) return;
    setStatus('publishing…');
    const { res, data: body } = await postJson<{ shareUrl?: string }>('/api/images', {
      modelId: model.id,
      seed: gridSeed(seed, picked[0] ?? 0),
      ...(classes ? { class: classIdx } : {}),
    });
    if (!res.ok || !body.shareUrl) {
      setStatus(`publish failed: ${body.error?.message ?? res.status}`);
      return;
    }
    setShareUrl(body.shareUrl);
    setStatus('published');
  }

  function applySeed() {
    const n = Number(seedText);
    if (!Number.isInteger(n) || n < 0 || n > MAX_SEED - GRID)
      setStatus(`a seed is a whole number from 0 to ${MAX_SEED - GRID}`);
    else setSeed(n);
  }

  return (
    <div className="space-y-6">
      <section className="flex flex-wrap items-center gap-4 text-sm">
        <label className="flex items-center gap-2">
          Model
          <select
            value={modelId ?? ''}
            onChange={(e) => setModelId(e.target.value)}
            className="rounded bg-zinc-800 px-2 py-1"
          >
            {models.map((m) => (
              <option key={m.id} value={m.id}>
                {m.name}
                {m.resolution === 32 ? '' : ` (${m.resolution}×${m.resolution})`}
              </option>
            ))}
          </select>
        </label>
        {classes && (
          <label className="flex items-center gap-2">
            Class
            <ClassSelect label="class" classes={classes} value={classIdx} onChange={setClassIdx} />
          </label>
        )}
        <span data-testid="backend">backend: {backend}</span>
        {model && (
          <span data-testid="model-size">
            {model.resolution}×{model.resolution} · {(model.sizeBytes / 1024 / 1024).toFixed(2)} MB
            ({model.quantization}) ·{' '}
            {generator ? 'loaded' : `loading ${Math.round(progress * 100)}%`}
          </span>
        )}
      </section>
      {model?.note && (
        <p className="text-sm text-amber-300">
          {model.note}{' '}
          <a href={`/models/${model.id}`} className="underline">
            About this model
          </a>
        </p>
      )}
      <section className="flex flex-wrap items-center gap-2 text-sm">
        <input
          aria-label="seed"
          inputMode="numeric"
          value={seedText}
          placeholder={String(seed)}
          onChange={(e) => setSeedText(e.target.value)}
          onKeyDown={(e) => e.key === 'Enter' && applySeed()}
          className="w-36 rounded bg-zinc-800 px-2 py-1"
        />
        <button type="button" onClick={applySeed} className="rounded bg-zinc-700 px-3 py-1">
          Generate
        </button>
        <button
          type="button"
          onClick={() => setSeed(Math.floor(Math.random() * (MAX_SEED - GRID)))}
          className="rounded bg-zinc-700 px-3 py-1"
        >
          Random
        </button>
        <span className="text-zinc-400">
          seeds {seed}–{seed + GRID - 1}; click a tile to pick it, pick two to interpolate
        </span>
      </section>
      <section data-testid="grid" className="grid w-full max-w-[25rem] grid-cols-4 gap-1">
        {tiles.map((img, i) => (
          <Tile
            key={i}
            image={img}
            label={`seed ${gridSeed(seed, i)}${className ? `, ${className}` : ''}`}
            caption={className}
            selected={picked.includes(i)}
            onClick={() =>
              setPicked((p) => (p.includes(i) ? p.filter((x) => x !== i) : [...p, i].slice(-2)))
            }
          />
        ))}
      </section>
      <section className="flex flex-wrap items-center gap-2 text-sm">
        <button
          type="button"
          disabled={picked.length === 0}
          onClick={() => void publish()}
          className="rounded bg-indigo-600 px-3 py-1 text-white disabled:opacity-40"
        >
          Publish{' '}
          {picked[0] !== undefined
            ? `seed ${gridSeed(seed, picked[0])}${className ? ` (${className})` : ''}`
            : 'a picked tile'}
        </button>
        <button
          type="button"
          disabled={picked.length !== 2}
          onClick={() => void interpolate()}
          className="rounded bg-zinc-700 px-3 py-1 disabled:opacity-40"
        >
          Interpolate
        </button>
        {classes && (
          <>
            <button
              type="button"
              disabled={picked.length === 0 || toClass === classIdx}
              onClick={() => void interpolateClass()}
              className="rounded bg-zinc-700 px-3 py-1 disabled:opacity-40"
            >
              Morph {className} into
            </button>
            <ClassSelect
              label="morph into class"
              classes={classes}
              value={toClass}
              onChange={setToClass}
            />
          </>
        )}
        <span data-testid="status">{status}</span>
        {shareUrl && (
          <a data-testid="share-link" href={shareUrl} className="text-indigo-400 underline">
            {shareUrl}
          </a>
        )}
      </section>
      {path.length > 0 && (
        <section data-testid="path" className="flex flex-wrap gap-1">
          {path.map((img, i) => (
            <Tile key={i} image={img} label={`step ${i}`} className="w-16 sm:w-24" />
          ))}
        </section>
      )}
    </div>
  );
}
