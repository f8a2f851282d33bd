/**
 * Runs: a training run's recipe, per-epoch grids and metric series, as `ganstudio upload`
 * registers them and the run pages show them.
 */
import { desc, eq } from 'drizzle-orm';

import type { Db } from '@ganstudio/db/client';
import { models, runMetrics, runs, runSamples, type Run } from '@ganstudio/db/schema';
import { referenceOf, UNRECORDED, type Passport } from '@ganstudio/models/passport';
import { isFid, isScale, isStep, recordPassport, type MetricRecord } from '@ganstudio/runs/format';

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

export async function getRun(db: Db, id: string) {
  const [run] = await db.select().from(runs).where(eq(runs.id, id));
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

/** A point of the floor or ceiling of a run's scale (real test images, uniform noise). */
export interface ScalePoint {
  fid: number;
  kid: number;
  kid_std?: number;
  precision: number;
  recall: number;
}

/** What publishing records of a run's quality curve in its config (runSeries). */
export interface FidProtocol {
  feature_network: string;
  samples: number;
  weights?: string;
  reference?: string;
  passport?: Passport;
  floor?: ScalePoint;
  ceiling?: ScalePoint;
}

export const fidProtocolOf = (run: Pick<Run, 'config'>): FidProtocol | undefined =>
  (run.config as { fid_protocol?: FidProtocol }).fid_protocol;

/**
 * The passport of a run's quality curve; runs published before passports have one from the
 * fields they recorded (the rest "unrecorded"); a run with no curve has none.
 */
export function runPassport(run: Pick<Run, 'config'>): Passport | undefined {
  const p = fidProtocolOf(run);
  if (!p) return undefined;
  return (
    p.passport ?? {
      feature_network: p.feature_network,
      resize: UNRECORDED,
      samples: p.samples,
      reference: referenceOf(p.reference),
      latent_protocol: UNRECORDED,
      weights: p.weights ?? UNRECORDED,
      quantization: UNRECORDED,
    }
  );
}

/** One row of a run's series: losses where a step line was logged, the measures where measured. */
type SeriesPoint = Omit<typeof runMetrics.$inferInsert, 'runId'>;

const UNMEASURED = {
  fid: null,
  isScore: null,
  classFidelity: null,
  kid: null,
  kidStd: null,
  precision: null,
  recall: null,
  copies: null,
};

/**
 * A run's rows for the charts (at most RUN_SERIES_POINTS step lines, every measurement) and the
 * protocol of its quality curve. The curve is the lines of one passport, the most common (the
 * trainer's periodic protocol): a 10,000-sample final FID is not comparable with 2,000-sample
 * points and would make a false dip.
 */
export function runSeries(
  lines: readonly MetricRecord[],
  shape: { resolution: number; conditional: boolean },
): { metrics: SeriesPoint[]; fidProtocol: FidProtocol | undefined } {
  const steps = lines.filter(isStep);
  const stride = Math.max(1, Math.ceil(steps.length / RUN_SERIES_POINTS));
  const byStep = new Map<number, SeriesPoint>(
    steps
      .filter((_, i) => i % stride === 0 || i === steps.length - 1)
      .map((s): [number, SeriesPoint] => [
        s.step,
        {
          step: s.step,
          epoch: s.epoch,
          dLoss: s.d_loss,
          gLoss: s.g_loss,
          ...UNMEASURED,
          elapsedS: s.elapsed_s,
        },
      ]),
  );
  /** Training seconds at `step`: the last logged step line at or before it (FID lines carry none). */
  const elapsedAt = (step: number) => {
    let at: number | null = null;
    for (const s of steps) if (s.step <= step) at = s.elapsed_s;
    return at;
  };
  const fidLines = lines.filter(isFid).map((line) => ({
    line,
    passport: recordPassport(line, shape.resolution, shape.conditional),
  }));
  const keyOf = (p: Passport) => JSON.stringify(p);
  const counts = new Map<string, number>();
  for (const { passport } of fidLines)
    counts.set(keyOf(passport), (counts.get(keyOf(passport)) ?? 0) + 1);
  const protocolKey = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
  const protocol = fidLines.filter((l) => keyOf(l.passport) === protocolKey);
  for (const { line: l } of protocol) {
    const point = byStep.get(l.step) ?? {
      step: l.step,
      epoch: l.epoch,
      dLoss: null,
      gLoss: null,
      ...UNMEASURED,
      elapsedS: elapsedAt(l.step),
    };
    byStep.set(l.step, {
      ...point,
      fid: l.fid,
      isScore: l.is_mean ?? null,
      classFidelity: l.class_fidelity ?? null,
      kid: l.kid ?? null,
      kidStd: l.kid_std ?? null,
      precision: l.precision ?? null,
      recall: l.recall ?? null,
      copies: l.copies ?? null,
    });
  }
  const first = protocol[0];
  // The floor (real test images) and ceiling (noise) on the curve's passport, when measured.
  const scale = lines
    .filter(isScale)
    .reverse()
    .find((l) => first && keyOf(l.passport) === keyOf(first.passport));
  return {
    metrics: [...byStep.values()].sort((a, b) => a.step - b.step),
    fidProtocol: first && {
      feature_network: first.line.feature_network ?? 'unknown',
      samples: first.passport.samples,
      ...(first.line.weights ? { weights: first.line.weights } : {}),
      ...(first.line.reference ? { reference: first.line.reference } : {}),
      passport: first.passport,
      ...(scale ? { floor: scale.floor, ceiling: scale.ceiling } : {}),
    },
  };
}
