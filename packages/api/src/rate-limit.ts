/**
 * Budgets: token buckets keyed by kind and subject (a visitor, a client address, or the whole
 * site), refilled continuously. Two stores with one contract — take one token from every named
 * bucket, all or none — so the API cannot tell them apart: in memory (one process; PGlite, which
 * is single-process anyway) and on PostgreSQL (rate_take, shared by every instance on the database).
 */
import { sql } from 'drizzle-orm';

import type { Db } from '@ganstudio/db/client';
import { rowsOf } from '@ganstudio/db/rows';

/** One bucket of a shared token-bucket limit: `limit` tokens per `windowMs` (at most a day). */
export interface Bucket {
  key: string;
  limit: number;
  windowMs: number;
}

/**
 * Takes one token from every bucket, all or none, in one round trip (rate_take, migration 0002),
 * so every instance on this database spends the same budgets. Returns 0 when allowed, else the
 * seconds until each bucket has a token again.
 */
export async function takeTokens(db: Db, buckets: Bucket[]): Promise<number> {
  if (!buckets.length) return 0;
  const arr = (xs: (string | number)[]) =>
    sql`${'{' + xs.map((x) => JSON.stringify(String(x))).join(',') + '}'}`;
  const result = await db.execute(
    sql`select rate_take(${arr(buckets.map((b) => b.key))}::text[], ${arr(buckets.map((b) => b.limit))}::integer[], ${arr(buckets.map((b) => b.windowMs))}::integer[]) as wait`,
  );
  return Number(rowsOf<{ wait: number }>(result)[0]?.wait ?? 0);
}

export interface Limit {
  limit: number;
  windowMs: number;
}

export interface LimitStore {
  readonly shared: boolean;
  /** Takes one token from each bucket, all or none: 0 when allowed, else seconds to wait. */
  take(buckets: Bucket[]): Promise<number>;
}

export interface RateLimiter {
  /** Takes one token; returns 0 when allowed, else the seconds until one is available. */
  take(key: string): number;
  /** Keys held now (tests: stale keys are dropped as traffic goes on). */
  size(): number;
}

interface State {
  tokens: number;
  at: number;
}

const refill = (s: State, { limit, windowMs }: Limit, t: number) =>
  Math.min(limit, s.tokens + (t - s.at) * (limit / windowMs));
const waitFor = (tokens: number, { limit, windowMs }: Limit) =>
  Math.max(1, Math.ceil((1 - tokens) / (limit / windowMs) / 1000));

/** No window is longer than a day, so a bucket untouched for a day is full: dropping it changes nothing. */
const LONGEST_WINDOW_MS = 86_400_000;
/** A hard bound on keys held (a few hundred bytes each), whatever the traffic. */
export const MEMORY_BUCKETS_MAX = 500_000;
const EVICT_PER_TAKE = 16;

/**
 * In-memory buckets behind one synchronous take (all or none). The Map is kept in last-touched
 * order (a touched key is moved to the end), so the stale keys are always at its front: each take
 * drops at most EVICT_PER_TAKE expired keys from there, O(1) per request and never a scan of the
 * whole map (a take adds at most a handful of keys, so the stale backlog still drains). Past
 * MEMORY_BUCKETS_MAX the least recently touched key goes even if not yet full.
 */
function memoryBuckets(now: () => number) {
  const buckets = new Map<string, State>();
  const evict = (t: number) => {
    let budget = EVICT_PER_TAKE;
    for (const [k, s] of buckets) {
      const over = buckets.size > MEMORY_BUCKETS_MAX;
      if (!over && (s.at >= t - LONGEST_WINDOW_MS || budget-- <= 0)) break;
      buckets.delete(k);
    }
  };
  const take = (wanted: Bucket[]): number => {
    const t = now();
    let wait = 0;
    const states = wanted.map((b) => {
      const s = buckets.get(b.key) ?? { tokens: b.limit, at: t };
      s.tokens = refill(s, b, t);
      s.at = Math.max(s.at, t);
      buckets.delete(b.key);
      buckets.set(b.key, s);
      if (s.tokens < 1) wait = Math.max(wait, waitFor(s.tokens, b));
      return s;
    });
    if (!wait) for (const s of states) s.tokens -= 1;
    evict(t);
    return wait;
  };
  return Object.assign(take, { size: () => buckets.size });
}

/** The budgets of one process, gone with it (tests). */
export function memoryLimitStore(now: () => number = Date.now): LimitStore {
  const take = memoryBuckets(now);
  return { shared: false, take: (wanted) => Promise.resolve(take(wanted)) };
}

/** One limit keyed by subject, synchronously: the same buckets as memoryLimitStore. */
export function createRateLimiter(limit: Limit, now: () => number = Date.now): RateLimiter {
  const take = memoryBuckets(now);
  return { take: (key) => take([{ key, ...limit }]), size: take.size };
}

/**
 * Buckets in the gallery's database (PostgreSQL or PGlite, the same rate_take function): one round
 * trip per take; every instance spends the same budgets, and a restart resets none of them (a
 * day's publish share per address held in memory was a fresh one after every restart).
 */
export function databaseLimitStore(db: Db): LimitStore {
  return { shared: true, take: (buckets) => takeTokens(db, buckets) };
}

/**
 * Every budget. A `…PerIp` budget is per contributor address (IPv4, or an IPv6 /64), and the /48
 * around an IPv6 address has one of NETWORK_FACTOR times it on top, shared by all its /64s.
 */
export interface RateLimits {
  publishPerVisitor: Limit;
  publishPerIp: Limit;
  /** New images one address may add in a day: a small share of publishGlobalDaily, so one address cannot spend the site's. */
  publishPerIpDaily: Limit;
  /** Every new image on the site, per minute and per day: renders cost CPU and every image is stored. */
  publishGlobal: Limit;
  publishGlobalDaily: Limit;
  votePerVisitor: Limit;
  votePerIp: Limit;
  /** New identities one client address may obtain. */
  mintPerIp: Limit;
  /** Judge trials (each renders a sample): per visitor and per address. */
  judgePerVisitor: Limit;
  judgePerIp: Limit;
  /** Answers to trials, budgeted apart from trials. */
  answerPerVisitor: Limit;
  answerPerIp: Limit;
}

/** Rules for who may vote and publish; all documented in docs/reliability.md. */
export interface IdentityRules {
  /** An identity counts only this many seconds after it was issued: a loop without cookies gets none. */
  minAgeS: number;
  /** Most voters one client address (IPv6: one /64) may have on one image: the most it can move a score. */
  votersPerAddressPerImage: number;
}

/** Every count in `limits` times `scale` (load benchmarks send thousands of votes from one host). */
export function scaleLimits(limits: RateLimits, scale: number): RateLimits {
  return Object.fromEntries(
    Object.entries(limits).map(([k, l]: [string, Limit]) => [
      k,
      { ...l, limit: Math.max(1, Math.ceil(l.limit * scale)) },
    ]),
  ) as unknown as RateLimits;
}
