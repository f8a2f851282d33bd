/**
 * Budgets: token buckets keyed by kind and subject (a visitor, a client address, or the whole
 * site), refilled continuously. Two stores with one contract — take one token from every named
 * bucket, all or none — so the API cannot tell them apart: in memory (one process; PGlite, which
 * is single-process anyway) and on PostgreSQL (rate_take, shared by every instance on the database).
 */
import type { Db } from '@ganstudio/db/client';
import { takeTokens, type Bucket } from '@ganstudio/db/queries';

export type { Bucket };

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
}

interface State {
  tokens: number;
  at: number;
}

const refill = (s: State, { limit, windowMs }: Limit, t: number) =>
  Math.min(limit, s.tokens + (t - s.at) * (limit / windowMs));
const waitFor = (tokens: number, { limit, windowMs }: Limit) =>
  Math.max(1, Math.ceil((1 - tokens) / (limit / windowMs) / 1000));

/**
 * In-memory buckets behind one synchronous take (all or none); buckets untouched for a day are
 * full and dropped beyond 100,000 keys, so memory stays bounded.
 */
function memoryBuckets(now: () => number) {
  const buckets = new Map<string, State>();
  return (wanted: Bucket[]): number => {
    const t = now();
    if (buckets.size > 100_000) {
      // A full bucket carries no information: a missing key starts full.
      for (const [k, s] of buckets) if (s.at < t - 86_400_000) buckets.delete(k);
    }
    let wait = 0;
    const states = wanted.map((b) => {
      const s = buckets.get(b.key) ?? { tokens: b.limit, at: t };
      s.tokens = refill(s, b, t);
      s.at = t;
      buckets.set(b.key, s);
      if (s.tokens < 1) wait = Math.max(wait, waitFor(s.tokens, b));
      return s;
    });
    if (!wait) for (const s of states) s.tokens -= 1;
    return wait;
  };
}

/** The budgets of one process (PGlite galleries, tests). */
export function memoryLimitStore(now: () => number = Date.now): LimitStore {
  const take = memoryBuckets(now);
  return { shared: false, take: async (wanted) => take(wanted) };
}

/** One limit keyed by subject, synchronously: the same buckets as memoryLimitStore. */
export function createRateLimiter(limit: Limit, now: () => number = Date.now): RateLimiter {
  const take = memoryBuckets(now);
  return { take: (key) => take([{ key, ...limit }]) };
}

/** Buckets on PostgreSQL: one round trip per take, the same budgets for every instance. */
export function postgresLimitStore(db: Db): LimitStore {
  return { shared: true, take: (buckets) => takeTokens(db, buckets) };
}

/**
 * The client address for per-IP limits: the X-Forwarded-For hop written by the nearest trusted
 * proxy, counted from the right. Proxies append the address they saw, so the left end is whatever
 * the client sent: keying on the first hop let a script rotate a made-up address per request and
 * never meet its limit. `trustedHops` is the number of proxies in front (1: one proxy, or Next.js /
 * `apps/edge`, which fill in the socket address); behind a CDN and a load balancer it is 2.
 */
export function clientIp(request: Request, trustedHops = 1): string {
  const hops = (request.headers.get('x-forwarded-for') ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  return (
    hops[Math.max(0, hops.length - trustedHops)] || request.headers.get('x-real-ip') || 'direct'
  );
}

/**
 * The subject of per-address budgets: an IPv4 address as is, an IPv6 address by its /64 (one
 * subscriber usually holds a whole /64, so per-address limits on full IPv6 addresses are free to
 * evade), IPv4-mapped IPv6 as IPv4. Anything unparsable is its own lower-cased string.
 */
export function addressKey(ip: string): string {
  let a = ip
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/%.*$/, '');
  const mapped =
    /^(?:0*:)*:?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a) ?? /^::(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return mapped[1]!;
  if (/^\d+\.\d+\.\d+\.\d+$/.test(a)) return a;
  if (!/^[0-9a-f:.]+$/.test(a) || !a.includes(':')) return a;
  if (a.includes('.')) a = a.replace(/:[^:]*$/, ':0:0'); // an embedded IPv4 tail is in the low 64 bits
  const [head = '', tail] = a.split('::');
  const left = head ? head.split(':') : [];
  const right = tail !== undefined && tail ? tail.split(':') : [];
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return a;
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

export interface RateLimits {
  publishPerVisitor: Limit;
  publishPerIp: Limit;
  /** Every publish on the site, per minute and per day: renders cost CPU and every image is stored. */
  publishGlobal: Limit;
  publishGlobalDaily: Limit;
  votePerVisitor: Limit;
  votePerIp: Limit;
  /** New identities one client address (IPv6: one /64) may obtain. */
  mintPerIp: Limit;
  /** Judge trials (each renders a sample): per visitor and per address. */
  judgePerVisitor: Limit;
  judgePerIp: Limit;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Generous for people, tight for scripts: a person publishes a few images and casts a few votes a minute. */
export const DEFAULT_RATE_LIMITS: RateLimits = {
  publishPerVisitor: { limit: 20, windowMs: MINUTE },
  publishPerIp: { limit: 120, windowMs: MINUTE },
  publishGlobal: { limit: 600, windowMs: MINUTE },
  publishGlobalDaily: { limit: 50_000, windowMs: 24 * HOUR },
  votePerVisitor: { limit: 120, windowMs: MINUTE },
  votePerIp: { limit: 3000, windowMs: MINUTE },
  mintPerIp: { limit: 30, windowMs: HOUR },
  judgePerVisitor: { limit: 600, windowMs: HOUR },
  judgePerIp: { limit: 3000, windowMs: HOUR },
};

/** Rules for who may vote and publish; all documented in docs/reliability.md. */
export interface IdentityRules {
  /** An identity counts only this many seconds after it was issued: a loop without cookies gets none. */
  minAgeS: number;
  /** Most voters one client address (IPv6: one /64) may have on one image: the most it can move a score. */
  votersPerAddressPerImage: number;
}

export const DEFAULT_IDENTITY_RULES: IdentityRules = { minAgeS: 5, votersPerAddressPerImage: 3 };

/** Every count in `limits` times `scale` (load benchmarks send thousands of votes from one host). */
export function scaleLimits(limits: RateLimits, scale: number): RateLimits {
  return Object.fromEntries(
    Object.entries(limits).map(([k, l]) => [
      k,
      { ...l, limit: Math.max(1, Math.ceil(l.limit * scale)) },
    ]),
  ) as unknown as RateLimits;
}
