// Runs side by side: FID by training wall-clock time and by images seen on one chart
// each, and their newest sample grids next to each other, so recipes compare at equal budgets.
// Curves are lined up only when their passports match (network, resize, samples, reference,
// latent protocol, weights, quantization); otherwise the page says which field differs.
import type { Metadata } from 'next';

import { getRun, runCurve } from '@ganstudio/api/features/runs';
import { isId } from '@ganstudio/db/schema';
import { describeDifference, passportDifference, passportLine } from '@ganstudio/models/passport';

import { LineChart } from '~/components/line-chart';
import { Link } from '~/components/link';
import { getContext } from '~/server/context';

export const metadata: Metadata = { title: 'Compare runs' };
export const dynamic = 'force-dynamic';

/** The two overlays: FID by training clock and by images seen. */
const CHARTS = [
  {
    id: 'fid-by-time',
    title: 'FID by training time (minutes)',
    xLabel: 'minutes',
    points: 'byTime',
  },
  {
    id: 'fid-by-images',
    title: 'FID by images seen (thousands)',
    xLabel: 'k images',
    points: 'byImages',
  },
] as const;

const COLORS = ['#34d399', '#60a5fa', '#f472b6', '#fbbf24', '#a78bfa', '#f87171'];

export default async function CompareRuns({
  searchParams,
}: {
  searchParams: Promise<{ id?: string | string[] }>;
}) {
  const wanted = [(await searchParams).id ?? []]
    .flat()
    .filter((id) => isId(id))
    .slice(0, COLORS.length);
  const { db } = await getContext();
  const runs = (await Promise.all(wanted.map((id) => getRun(db, id)))).filter(
    (r) => r !== undefined,
  );
  if (runs.length < 2)
    return (
      <p className="text-zinc-400">
        Pick two or more runs on{' '}
        <Link href="/runs" className="underline">
          the runs page
        </Link>{' '}
        to compare them.
      </p>
    );
  const series = runs.map((r, i) => {
    const batch = Number((r.run.config as { batchSize?: number }).batchSize ?? 64);
    const fid = r.metrics.filter((m) => m.fid !== null);
    return {
      run: r,
      color: COLORS[i % COLORS.length] ?? '#a1a1aa',
      byTime: fid.flatMap((m) =>
        m.elapsed_s === null || m.fid === null
          ? []
          : [{ x: Math.round(m.elapsed_s / 60), y: m.fid }],
      ),
      byImages: fid.flatMap((m) =>
        m.fid === null ? [] : [{ x: Math.round((m.step * batch) / 1000), y: m.fid }],
      ),
      passport: runCurve(r.run)?.passport,
    };
  });
  // The first run with a curve is the yardstick: every other must match it field for field.
  const measured = series.filter((s) => s.passport);
  const base = measured[0];
  const mismatch = measured
    .slice(1)
    .map((s) => ({
      s,
      d: base?.passport && s.passport && passportDifference(base.passport, s.passport),
    }))
    .find((m) => m.d);
  const unmeasured = series.filter((s) => !s.passport).map((s) => s.run.run.name);
  return (
    <div className="space-y-8">
      <header>
        <h1 className="text-2xl font-semibold">Compare runs</h1>
        <p className="text-sm text-zinc-400">
          FID of each run&apos;s periodic measurement (lower is better) by minutes of training and
          by thousands of images seen.
          {unmeasured.length > 0 && ` No quality curve for ${unmeasured.join(', ')}.`}
        </p>
      </header>
      {mismatch?.d && base ? (
        <p
          className="rounded border border-amber-700 bg-amber-950/40 p-3 text-sm text-amber-200"
          data-testid="compare-refused"
        >
          Not lined up: these runs&apos; numbers were measured differently, so their curves do not
          compare. {base.run.run.name} vs {mismatch.s.run.run.name}:{' '}
          <strong>{describeDifference(mismatch.d)}</strong>. Re-measure one with the other&apos;s
          protocol (<code>ganstudio eval</code>, or <code>ganstudio eval --compare A B</code> for
          two generators) to compare them.
        </p>
      ) : (
        <>
          {base?.passport && (
            <p className="text-xs text-zinc-400" data-testid="compare-passport">
              All measured on <code>{passportLine(base.passport)}</code>.
            </p>
          )}
          {CHARTS.map((c) => (
            <section key={c.id} data-testid={c.id}>
              <h2 className="mb-2 font-medium">{c.title}</h2>
              <LineChart
                xLabel={c.xLabel}
                series={series.map((s) => ({
                  name: s.run.run.name,
                  color: s.color,
                  points: s[c.points],
                }))}
              />
            </section>
          ))}
        </>
      )}
      <section>
        <h2 className="mb-2 font-medium">Newest samples</h2>
        <ul className="grid grid-cols-1 gap-4 sm:grid-cols-2 lg:grid-cols-3">
          {series.map((s) => {
            const grid = s.run.samples[s.run.samples.length - 1];
            return (
              <li key={s.run.run.id}>
                {grid && (
                  <img
                    src={grid.url}
                    alt={`${s.run.run.name}, epoch ${grid.epoch}`}
                    className="pixelated w-full rounded"
                    width={274}
                    height={274}
                  />
                )}
                <p className="mt-1 text-xs" style={{ color: s.color }}>
                  <Link href={`/runs/${s.run.run.id}`} className="underline">
                    {s.run.run.name}
                  </Link>
                  {grid ? `, epoch ${grid.epoch}` : ''}
                </p>
              </li>
            );
          })}
        </ul>
      </section>
    </div>
  );
}
