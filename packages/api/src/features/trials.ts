/**
 * The judge game's trials in the database: reserved under a per-visitor lock, given their image,
 * answered once (the answer adds to its contributor's tally, within its caps), and swept after
 * they expire. The game's rules are in ./judge.
 */
import { and, eq, isNull, sql } from 'drizzle-orm';

import type { Db } from '@ganstudio/db/client';
import { rowsOf } from '@ganstudio/db/rows';
import { models, trials } from '@ganstudio/db/schema';

import { TALLY_WINDOW, TRIAL_KEEP_MS, TRIAL_TTL_MS } from '../policy';

export type Truth = 'real' | 'generated';

/**
 * Opens a trial for its visitor unless `cap` are open already: the count and the insert run under
 * a transaction-scoped advisory lock on the visitor, so parallel starts from one identity queue
 * there and each counts the others' rows (counted, then inserted after a render, 12 parallel
 * starts had opened 5). The row is in before anything is rendered: a render only for a trial
 * that exists. Its image follows with setTrialImage.
 */
export async function reserveTrial(
  db: Db,
  row: typeof trials.$inferInsert & { visitorId: string },
  cap: number,
): Promise<boolean> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`trial:${row.visitorId}`}))`);
    const [open] = await tx
      .select({ n: sql<number>`count(*)::int` })
      .from(trials)
      .where(openFor(row.visitorId));
    if (Number(open?.n ?? 0) >= cap) return false;
    await tx.insert(trials).values(row);
    return true;
  });
}

/** The image of a reserved trial; a trial whose render failed is removed instead. */
export async function setTrialImage(db: Db, trialId: string, png: Uint8Array | null) {
  if (png) await db.update(trials).set({ png }).where(eq(trials.id, trialId));
  else await db.delete(trials).where(eq(trials.id, trialId));
}

const openFor = (visitorId: string) =>
  and(eq(trials.visitorId, visitorId), isNull(trials.answer), sql`${trials.expiresAt} > now()`);

export async function trialImage(
  db: Db,
  id: string,
): Promise<{ visitorId: string; png: Uint8Array | null; expiresAt: Date } | undefined> {
  const [row] = await db
    .select({ visitorId: trials.visitorId, png: trials.png, expiresAt: trials.expiresAt })
    .from(trials)
    .where(eq(trials.id, id));
  return row;
}

export type AnswerOutcome =
  | {
      ok: true;
      correct: boolean;
      truth: Truth;
      modelId: string | null;
      modelName: string | null;
      /** Whether it was added to the tallies (false past its contributor's or network's cap). */
      counted: boolean;
    }
  | { ok: false; reason: 'not_found' | 'not_yours' | 'answered' | 'expired' };

/** How much one contributor, and one network, adds to one subject's tally (judge_answer). */
export interface TallyCaps {
  perContributor: number;
  perNetwork: number;
}

/**
 * Records an answer once and adds it to its contributor's tally within the caps over TALLY_WINDOW:
 * one round trip to judge_answer (migration 0011), which only matches the owner's unanswered, unexpired trial, so
 * two answers racing each other count once. When it matches nothing, the outcome says why.
 */
export async function answerTrial(
  db: Db,
  id: string,
  visitorId: string,
  answer: Truth,
  caps: TallyCaps,
): Promise<AnswerOutcome> {
  const result = await db.execute(
    sql`select * from judge_answer(${id}, ${visitorId}, ${answer}, ${caps.perContributor}::integer, ${caps.perNetwork}::integer, ${TALLY_WINDOW.periodS}::integer, ${TALLY_WINDOW.periods}::integer)`,
  );
  const [row] = rowsOf<{
    outcome: string;
    kind: Truth | null;
    model_id: string | null;
    correct: boolean | null;
    counted: boolean | null;
  }>(result);
  if (!row || row.outcome !== 'ok')
    return {
      ok: false,
      reason: (row?.outcome ?? 'not_found') as 'not_found' | 'not_yours' | 'answered' | 'expired',
    };
  const model = row.model_id
    ? (await db.select({ name: models.name }).from(models).where(eq(models.id, row.model_id)))[0]
    : undefined;
  return {
    ok: true,
    correct: Boolean(row.correct),
    truth: row.kind ?? 'generated', // always set on an answered trial
    modelId: row.model_id,
    modelName: model?.name ?? null,
    counted: Boolean(row.counted),
  };
}

/**
 * Deletes trials that expired before `before` (answered ones too: their answers live on in the
 * tallies), at most `limit` rows a call so one call stays short. Returns how many went.
 */
export async function deleteOldTrials(db: Db, before: Date, limit = 500): Promise<number> {
  const gone = await db
    .delete(trials)
    .where(
      sql`${trials.id} in (select ${trials.id} from ${trials} where ${trials.expiresAt} < ${before.toISOString()}::timestamptz limit ${limit})`,
    )
    .returning({ id: trials.id });
  return gone.length;
}

export async function countTrials(db: Db): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(trials);
  return Number(row?.n ?? 0);
}

/** Expired trials are swept at most this often per process, a bounded batch each time. */
const SWEEP_EVERY_MS = 60_000;
const lastSweep = new WeakMap<Db, number>();

/** Deletes trials kept past TRIAL_KEEP_MS, at most once a minute per process and database. */
export async function sweepTrials(db: Db, now: number, force = false): Promise<number> {
  if (!force && now - (lastSweep.get(db) ?? 0) < SWEEP_EVERY_MS) return 0;
  lastSweep.set(db, now);
  return deleteOldTrials(db, new Date(now - TRIAL_TTL_MS - TRIAL_KEEP_MS));
}
