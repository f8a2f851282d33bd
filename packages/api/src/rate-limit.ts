/**
 * Fixed-budget token buckets in memory, per key (visitor id or client IP): `limit` requests per
 * `windowMs`, refilled continuously. One process's view: behind several instances the effective
 * limit is per instance (put a shared limiter in front for a hard global cap).
 */
export interface Limit {
  limit: number;
  windowMs: number;
}

export interface RateLimiter {
  /** Takes one token; returns 0 when allowed, else the seconds until one is available. */
  take(key: string): number;
}

export function createRateLimiter(
  { limit, windowMs }: Limit,
  now: () => number = Date.now,
): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const perMs = limit / windowMs;
  return {
    take(key) {
      const t = now();
      const b = buckets.get(key) ?? { tokens: limit, at: t };
      b.tokens = Math.min(limit, b.tokens + (t - b.at) * perMs);
      b.at = t;
      if (buckets.size > 100_000) {
        // Full buckets carry no information; drop them so memory stays bounded under many visitors.
        for (const [k, v] of buckets) if (v.tokens + (t - v.at) * perMs >= limit) buckets.delete(k);
      }
      if (b.tokens >= 1) {
        b.tokens -= 1;
        buckets.set(key, b);
        return 0;
      }
      buckets.set(key, b);
      return Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000));
    },
  };
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

export interface RateLimits {
  publishPerVisitor: Limit;
  publishPerIp: Limit;
  votePerVisitor: Limit;
  votePerIp: Limit;
}

const MINUTE = 60_000;

/** Generous for people, tight for scripts: a person publishes a few images and casts a few votes a minute. */
export const DEFAULT_RATE_LIMITS: RateLimits = {
  publishPerVisitor: { limit: 20, windowMs: MINUTE },
  publishPerIp: { limit: 120, windowMs: MINUTE },
  votePerVisitor: { limit: 120, windowMs: MINUTE },
  votePerIp: { limit: 3000, windowMs: MINUTE },
};
