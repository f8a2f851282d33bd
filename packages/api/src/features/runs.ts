/**
 * Runs: a training run's recipe, per-epoch grids and metric series, as `ganstudio upload`
 * registers them and the run pages show them.
 */
import { desc, eq } from 'drizzle-orm';

import type { Db } from '@ganstudio/db/client';
import { models, runMetrics, runs, runSamples, type Run } from '@ganstudio/db/schema';
import { measurementOf, type ScalePoint } from '@ganstudio/models/measurement';
import type { Passport } from '@ganstudio/models/passport';
import { isMeasurement, isScale, isStep, type MetricRecord } from '@ganstudio/runs/format';

import { RUN_SERIES_POINTS } from '../policy';

export async function upsertRun(
  db: Db,
  run: typeof runs.$inferInsert,
  samples: { epoch: number; url: string }[],
  metrics: Omit<typeof runMetrics.$inferInsert, 'runId'>[],
): Promise<Run> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(runs)
      .values(run)
      .onConflictDoUpdate({ target: runs.id, set: { ...run, createdAt: undefined } })
      .returning();
    await tx.delete(runSamples).where(eq(runSamples.runId, run.id));
    await tx.delete(runMetrics).where(eq(runMetrics.runId, run.id));
    if (samples.length)
      await tx.insert(runSamples).values(samples.map((s) => ({ ...s, runId: run.id })));
    for (let i = 0; i < metrics.length; i += 1000) {
      await tx
        .insert(runMetrics)
        .values(metrics.slice(i, i + 1000).map((m) => ({ ...m, runId: run.id })));
    }
    if (!row) throw new Error(`run ${run.id}: the upsert returned no row`);
    return row;
  });
}

export async function listRuns(db: Db): Promise<Run[]> {
  return db.select().from(runs).orderBy(desc(runs.createdAt));
}

export async function runExists(db: Db, id: string): Promise<boolean> {
  return (await db.select({ id: runs.id }).from(runs).where(eq(runs.id, id))).length > 0;
}

/** A run's own row (name, recipe, record digest), without its grids, series and models. */
export async function runRow(db: Db, id: string): Promise<Run | undefined> {
  const [run] = await db.select().from(runs).where(eq(runs.id, id));
  return run;
}

export async function getRun(db: Db, id: string) {
  const run = await runRow(db, id);
  if (!run) return undefined;
  const samples = await db
    .select()
    .from(runSamples)
    .where(eq(runSamples.runId, id))
    .orderBy(runSamples.epoch);
  const metrics = await db
    .select()
    .from(runMetrics)
    .where(eq(runMetrics.runId, id))
    .orderBy(runMetrics.step);
  const runModels = await db
    .select()
    .from(models)
    .where(eq(models.runId, id))
    .orderBy(desc(models.createdAt));
  return { run, samples, metrics, models: runModels };
}

/**
 * A run's quality curve, as publishing records it in the run's config: the passport its points
 * share (runSeries keeps one) and, when measured, the scale they sit on.
 */
export interface RunCurve {
  passport: Passport;
  floor?: ScalePoint;
  ceiling?: ScalePoint;
}

export const runCurve = (run: Pick<Run, 'config'>): RunCurve | undefined =>
  (run.config as { curve?: RunCurve }).curve;

/** One row of a run's series: losses where a step line was logged, the measures where measured. */
type SeriesPoint = Omit<typeof runMetrics.$inferInsert, 'runId'>;

/**
 * A run's rows for the charts (at most RUN_SERIES_POINTS step lines, every measurement) and the
 * protocol of its quality curve. The curve is the lines of one passport, the most common (the
 * trainer's periodic protocol): a 10,000-sample final FID is not comparable with 2,000-sample
 * points and would make a false dip.
 */
export function runSeries(lines: readonly MetricRecord[]): {
  metrics: SeriesPoint[];
  curve: RunCurve | undefined;
} {
  const steps = lines.filter(isStep);
  const stride = Math.max(1, Math.ceil(steps.length / RUN_SERIES_POINTS));
  const byStep = new Map<number, SeriesPoint>(
    steps
      .filter((_, i) => i % stride === 0 || i === steps.length - 1)
      .map(({ step, epoch, d_loss, g_loss, elapsed_s }): [number, SeriesPoint] => [
        step,
        { step, epoch, d_loss, g_loss, elapsed_s },
      ]),
  );
  /** Training seconds at `step`: the last logged step line at or before it (measurement lines carry none). */
  const elapsedAt = (step: number) => {
    let at: number | null = null;
    for (const s of steps) if (s.step <= step) at = s.elapsed_s;
    return at;
  };
  const keyOf = (p: Passport) => JSON.stringify(p);
  const measured = lines.filter(isMeasurement);
  const counts = new Map<string, number>();
  for (const { passport } of measured)
    counts.set(keyOf(passport), (counts.get(keyOf(passport)) ?? 0) + 1);
  const protocolKey = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
  const protocol = measured.filter((l) => keyOf(l.passport) === protocolKey);
  for (const line of protocol) {
    // The row keeps the numbers; the passport is the curve's, IS's spread is not charted.
    const { passport: _passport, is_std: _isStd, ...numbers } = measurementOf(line);
    byStep.set(line.step, {
      ...(byStep.get(line.step) ?? {
        step: line.step,
        epoch: line.epoch,
        elapsed_s: elapsedAt(line.step),
      }),
      ...numbers,
    });
  }
  const passport = protocol[0]?.passport;
  // The floor (real test images) and ceiling (noise) on the curve's passport, when measured.
  const scale = lines
    .filter(isScale)
    .reverse()
    .find((l) => passport && keyOf(l.passport) === keyOf(passport));
  return {
    metrics: [...byStep.values()].sort((a, b) => a.step - b.step),
    curve: passport && {
      passport,
      ...(scale ? { floor: scale.floor, ceiling: scale.ceiling } : {}),
    },
  };
}
