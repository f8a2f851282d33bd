'use client';

/** The studio's pieces of UI: an image tile drawn on a canvas, and a picker of a model's classes. */
import { useEffect, useRef } from 'react';

import type { RgbaImage } from '@ganstudio/models/image';

/** `className` sizes the tile (the canvas fills it, square): the grid's cells shrink on narrow screens. */
export function Tile({
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
export function ClassSelect({
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
