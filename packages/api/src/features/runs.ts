/**
 * Runs: a training run's recipe, per-epoch grids and metric series, as `ganstudio upload`
 * registers them and the run pages show them.
 */
import { desc, eq } from 'drizzle-orm';

import type { Db } from '@ganstudio/db/client';
import { models, runMetrics, runs, runSamples, type Run } from '@ganstudio/db/schema';
import { referenceOf, UNRECORDED, type Passport } from '@ganstudio/models/passport';

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

/** What the publisher records of a run's quality curve in its config (packages/runs registerRun). */
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
