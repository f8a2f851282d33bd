'use client';

/**
 * The studio: loads the chosen generator in the visitor's browser (tfjs: WebGPU where the browser
 * offers an adapter, else WebGL, else wasm, else cpu — and says which), samples a 4×4 grid where
 * tile i is seed + i, publishes one tile (the server re-renders it from model + seed), and
 * interpolates between two tiles (slerp in z). A class-conditional model draws the grid in the
 * picked class (each tile says it), publishes in it, and also morphs one tile's z from its class
 * to another. The state lives in ./hooks, one hook per job.
 */
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';

import { useState } from 'react';

import { gridSeed, MAX_SEED } from '@ganstudio/models/gan';

import type { Backend } from './backends';
import { GRID, useClasses, useGenerator, useGrid, useModels, useMorph, usePublish } from './hooks';
import { ClassSelect, Tile } from './tiles';

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
  const {
    models,
    model,
    setModelId,
    backend,
    error: listError,
  } = useModels(initialModel, backendChoice);
  const { generator, progress, error: loadError } = useGenerator(model, backend);
  const classes = model?.classes ?? null;
  const { classIdx, setClassIdx, toClass, setToClass } = useClasses(classes, initialClass);
  const className = classes?.[classIdx];
  const [seed, setSeed] = useState(initialSeed ?? Math.floor(Math.random() * 1_000_000));
  const [seedText, setSeedText] = useState(String(initialSeed ?? ''));
  const { tiles, picked, toggle } = useGrid(generator, model, seed, classIdx);
  const morph = useMorph(generator, model, tiles);
  const { status, setStatus, shareUrl, publish } = usePublish(tiles);
  const first = picked[0];

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
            value={model?.id ?? ''}
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
            onClick={() => toggle(i)}
          />
        ))}
      </section>
      <section className="flex flex-wrap items-center gap-2 text-sm">
        <button
          type="button"
          disabled={picked.length === 0}
          onClick={() =>
            model &&
            first !== undefined &&
            void publish({
              modelId: model.id,
              seed: gridSeed(seed, first),
              ...(classes ? { class: classIdx } : {}),
            })
          }
          className="rounded bg-indigo-600 px-3 py-1 text-white disabled:opacity-40"
        >
          Publish{' '}
          {first !== undefined
            ? `seed ${gridSeed(seed, first)}${className ? ` (${className})` : ''}`
            : 'a picked tile'}
        </button>
        <button
          type="button"
          disabled={picked.length !== 2}
          onClick={() =>
            void morph.between(
              [gridSeed(seed, picked[0] ?? 0), gridSeed(seed, picked[1] ?? 0)],
              classes ? classIdx : undefined,
            )
          }
          className="rounded bg-zinc-700 px-3 py-1 disabled:opacity-40"
        >
          Interpolate
        </button>
        {classes && (
          <>
            <button
              type="button"
              disabled={picked.length === 0 || toClass === classIdx}
              onClick={() =>
                void morph.acrossClasses(gridSeed(seed, first ?? 0), classIdx, toClass)
              }
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
        <span data-testid="status">{status || listError || loadError}</span>
        {shareUrl && (
          <a data-testid="share-link" href={shareUrl} className="text-indigo-400 underline">
            {shareUrl}
          </a>
        )}
      </section>
      {morph.path.length > 0 && (
        <section data-testid="path" className="flex flex-wrap gap-1">
          {morph.path.map((img, i) => (
            <Tile key={i} image={img} label={`step ${i}`} className="w-16 sm:w-24" />
          ))}
        </section>
      )}
    </div>
  );
}
