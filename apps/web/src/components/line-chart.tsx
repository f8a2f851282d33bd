// A dependency-free SVG line chart for metric series (loss, FID) over training steps.
export interface Series {
  name: string;
  color: string;
  points: { x: number; y: number }[];
}

export function LineChart({
  series,
  xLabel,
  height = 220,
}: {
  series: Series[];
  xLabel: string;
  height?: number;
}) {
  const all = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.y));
  if (all.length < 2) return <p className="text-sm text-zinc-500">Not enough points yet.</p>;
  const W = 640;
  const pad = 36;
  const [x0, x1] = [Math.min(...all.map((p) => p.x)), Math.max(...all.map((p) => p.x))];
  const [y0, y1] = [Math.min(...all.map((p) => p.y)), Math.max(...all.map((p) => p.y))];
  const sx = (x: number) => pad + ((x - x0) / (x1 - x0 || 1)) * (W - 2 * pad);
  const sy = (y: number) => height - pad + -((y - y0) / (y1 - y0 || 1)) * (height - 2 * pad);
  return (
    <figure>
      <svg
        viewBox={`0 0 ${W} ${height}`}
        className="w-full rounded bg-zinc-900"
        role="img"
        aria-label={series.map((s) => s.name).join(', ')}
      >
        <text x={4} y={pad - 8} className="fill-zinc-500 text-[10px]">
          {y1.toFixed(2)}
        </text>
        <text x={4} y={height - pad} className="fill-zinc-500 text-[10px]">
          {y0.toFixed(2)}
        </text>
        <text x={W - pad} y={height - 8} textAnchor="end" className="fill-zinc-500 text-[10px]">
          {xLabel} {x1}
        </text>
        {series.map((s) => (
          <polyline
            key={s.name}
            fill="none"
            stroke={s.color}
            strokeWidth={1.5}
            points={s.points
              .filter((p) => Number.isFinite(p.y))
              .map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`)
              .join(' ')}
          />
        ))}
      </svg>
      <figcaption className="mt-1 flex gap-4 text-xs">
        {series.map((s) => (
          <span key={s.name} style={{ color: s.color }}>
            ● {s.name}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
