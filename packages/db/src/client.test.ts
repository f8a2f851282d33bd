/** The one schema's migrations: every committed one applies, on PGlite and PostgreSQL, and again as a no-op. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';

import { MIGRATIONS_FOLDER, openDb } from './client';
import { createThrowawayDatabase, postgresReachable } from './testing';

const journal = JSON.parse(
  readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8'),
) as {
  entries: { tag: string }[];
};
const pgReachable = await postgresReachable();
const rows = <T>(result: unknown) => (result as { rows: T[] }).rows;

async function applied(db: Awaited<ReturnType<typeof openDb>>['db']) {
  const migrations = rows<{ n: number }>(
    await db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`),
  )[0]!.n;
  const functions = rows<{ proname: string }>(
    await db.execute(
      sql`select proname from pg_proc where proname in ('cast_vote', 'rate_take', 'judge_answer') order by proname`,
    ),
  ).map((r) => r.proname);
  return { migrations: Number(migrations), functions };
}

describe('migrations', () => {
  it('every committed migration applies on PGlite, with the functions the queries call', async () => {
    const h = await openDb();
    try {
      expect(await applied(h.db)).toEqual({
        migrations: journal.entries.length,
        functions: ['cast_vote', 'judge_answer', 'rate_take'],
      });
    } finally {
      await h.close();
    }
  });

  it.skipIf(!pgReachable)(
    'on PostgreSQL too, and opening again (every start migrates) changes nothing',
    async () => {
      const scratch = await createThrowawayDatabase();
      try {
        for (let start = 0; start < 2; start++) {
          const h = await openDb({ url: scratch.url });
          try {
            expect((await applied(h.db)).migrations).toBe(journal.entries.length);
          } finally {
            await h.close();
          }
        }
      } finally {
        await scratch.drop();
      }
    },
  );
});
