// A dependency-free SVG line chart for metric series (loss, FID) over training steps, with
// optional spread bands (KID ± std) and horizontal reference lines (the floor and the ceiling).
export interface Series {
  name: string;
  color: string;
  /** lo/hi: a band drawn around the line at that point (e.g. ± one standard deviation). */
  points: { x: number; y: number; lo?: number; hi?: number }[];
}

export interface Rule {
  label: string;
  y: number;
  color: string;
}

export function LineChart({
  series,
  xLabel,
  height = 220,
  rules = [],
  testId,
}: {
  series: Series[];
  xLabel: string;
  height?: number;
  rules?: Rule[];
  testId?: string;
}) {
  const all = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.y));
  if (all.length < 2) return <p className="text-sm text-zinc-500">Not enough points yet.</p>;
  const W = 640;
  const pad = 36;
  const ys = [
    ...all.flatMap((p) => [p.y, p.lo ?? p.y, p.hi ?? p.y]),
    ...rules.map((r) => r.y),
  ].filter(Number.isFinite);
  const [x0, x1] = [Math.min(...all.map((p) => p.x)), Math.max(...all.map((p) => p.x))];
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const sx = (x: number) => pad + ((x - x0) / (x1 - x0 || 1)) * (W - 2 * pad);
  const sy = (y: number) => height - pad + -((y - y0) / (y1 - y0 || 1)) * (height - 2 * pad);
  const xy = (x: number, y: number) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`;
  return (
    <figure data-testid={testId}>
      <svg
        viewBox={`0 0 ${W} ${height}`}
        className="w-full rounded bg-zinc-900"
        role="img"
        aria-label={[...series.map((s) => s.name), ...rules.map((r) => r.label)].join(', ')}
      >
        <text x={4} y={pad - 8} className="fill-zinc-500 text-[10px]">
          {y1.toPrecision(3)}
        </text>
        <text x={4} y={height - pad} className="fill-zinc-500 text-[10px]">
          {y0.toPrecision(3)}
        </text>
        <text x={W - pad} y={height - 8} textAnchor="end" className="fill-zinc-500 text-[10px]">
          {xLabel} {x1}
        </text>
        {rules.map((r) => (
          <g key={r.label} data-rule={r.label}>
            <line
              x1={pad}
              x2={W - pad}
              y1={sy(r.y)}
              y2={sy(r.y)}
              stroke={r.color}
              strokeDasharray="4 4"
              strokeWidth={1}
            />
            <text x={W - pad} y={sy(r.y) - 3} textAnchor="end" fill={r.color} fontSize={10}>
              {r.label}
            </text>
          </g>
        ))}
        {series.map((s) => {
          const banded = s.points.filter(
            (p) => Number.isFinite(p.lo ?? NaN) && Number.isFinite(p.hi ?? NaN),
          );
          return banded.length < 1 ? null : (
            <polygon
              key={`${s.name}-band`}
              data-band={s.name}
              fill={s.color}
              fillOpacity={0.2}
              stroke="none"
              points={[
                ...banded.map((p) => xy(p.x, p.hi ?? p.y)),
                ...[...banded].reverse().map((p) => xy(p.x, p.lo ?? p.y)),
              ].join(' ')}
            />
          );
        })}
        {series.map((s) => (
          <polyline
            key={s.name}
            fill="none"
            stroke={s.color}
            strokeWidth={1.5}
            points={s.points
              .filter((p) => Number.isFinite(p.y))
              .map((p) => xy(p.x, p.y))
              .join(' ')}
          />
        ))}
      </svg>
      <figcaption className="mt-1 flex flex-wrap gap-4 text-xs">
        {series.map((s) => (
          <span key={s.name} style={{ color: s.color }}>
            ● {s.name}
          </span>
        ))}
        {rules.map((r) => (
          <span key={r.label} style={{ color: r.color }}>
            ┄ {r.label}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
