/**
 * Votes: one per visitor per image, at most a few voters per address on one image, and every
 * score the exact sum of its votes (cast_vote, one round trip under the image's row lock).
 */
import { and, eq, sql } from 'drizzle-orm';
import { z } from 'zod';

import type { Db } from '@ganstudio/db/client';
import { rowsOf } from '@ganstudio/db/rows';
import { votes } from '@ganstudio/db/schema';

import type { Core, Route } from '../core';
import { DbError, HttpError, Id, json, readJson } from '../http';

const VoteBody = z.object({ value: z.union([z.literal(1), z.literal(-1), z.literal(0)]) }).strict();

/** Where a vote came from, for the per-address cap. */
export interface VoteOrigin {
  /** Keyed hash of the client address; never the address itself. */
  addr: string;
  /** Most voters one address may have on one image. */
  cap: number;
}

/** SQLSTATE of an error from either driver (drizzle may wrap the driver's error as its cause). */
const sqlState = (err: unknown): string | undefined => {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = typeof e?.code === 'string' ? e.code : e?.cause?.code;
  return typeof code === 'string' ? code : undefined;
};

/**
 * Sets (±1) or withdraws (0) a visitor's vote and returns the image's new score: one round trip to
 * the cast_vote function (migrations 0001, 0002), which locks the image row, so concurrent and
 * repeated votes can neither be lost nor double-counted: score = Σ votes, always. With an origin,
 * a voter new to the image is refused (DbError 'address_cap') once its address has `cap` voters there.
 */
export async function castVote(
  db: Db,
  imageId: string,
  voterId: string,
  value: -1 | 0 | 1,
  origin?: VoteOrigin,
): Promise<{ score: number; vote: number }> {
  let result: unknown;
  try {
    result = await db.execute(
      sql`select cast_vote(${imageId}, ${voterId}, ${value}::smallint, ${origin?.addr ?? null}::text, ${origin?.cap ?? null}::integer) as score`,
    );
  } catch (err) {
    if (sqlState(err) === 'GS429')
      throw new DbError(
        'address_cap',
        `this network has already cast ${origin?.cap} votes on this image`,
      );
    throw err;
  }
  const score = rowsOf<{ score: number | null }>(result)[0]?.score;
  if (score === null || score === undefined) throw new DbError('not_found', 'no such image');
  return { score: Number(score), vote: value };
}

export async function getVotes(
  db: Db,
  voterId: string,
  imageIds: string[],
): Promise<Map<string, number>> {
  if (!imageIds.length) return new Map();
  const rows = await db
    .select({ imageId: votes.imageId, value: votes.value })
    .from(votes)
    .where(and(eq(votes.voterId, voterId), sql`${votes.imageId} in ${imageIds}`));
  return new Map(rows.map((r) => [r.imageId, r.value]));
}

export function voteRoutes(core: Core): Route[] {
  return [
    {
      method: 'POST',
      path: '/api/images/:id/vote',
      summary:
        'Vote on an image: `{value: 1 | -1 | 0}` (0 withdraws) → `{score, vote}`. At most 3 voters per address on one image.',
      async handle(request, { id = '' }, f) {
        if (!Id.safeParse(id).success) throw new HttpError(404, 'not_found', 'no such image');
        const visitor = await core.admit(request, f, 'vote', 'votePerIp', 'votePerVisitor');
        const body = await readJson(request, VoteBody);
        // Voters count by network (an IPv6 /48, an IPv4 address), as judgements do: the cap per
        // image and a model's mean vote would otherwise take one voter per /64 a /48 holds.
        const result = await castVote(core.db, id, visitor.id, body.value, {
          addr: await core.addressTag(f.network),
          cap: core.rules.votersPerAddressPerImage,
        });
        return json(result);
      },
    },
  ];
}
