/**
 * What every feature's handlers share: the gallery's dependencies (db, blob store, renderer,
 * cookie secret, budgets) and its access rules: where a request comes from, the budgets it spends,
 * same-site state changes, and which visitor counts. Built once per gallery by createCore; the
 * features (./features) hold their own routes, schemas, queries and JSON.
 */
import type { Db } from '@ganstudio/db/client';
import type { BlobStore } from '@ganstudio/storage';

import { addressKeys, clientAddress, type ProxyTrust } from './address';
import { createCardCache } from './card';
import { HttpError } from './http';
import {
  DEFAULT_GATE,
  DEFAULT_IDENTITY_RULES,
  DEFAULT_RATE_LIMITS,
  NETWORK_FACTOR,
  SCORE_CACHE_MS,
} from './policy';
import {
  memoryLimitStore,
  type Bucket,
  type IdentityRules,
  type Limit,
  type LimitStore,
  type RateLimits,
} from './rate-limit';
import { gateRenderer, type GateOptions, type Renderer } from './render';
import { hmac, secureContext, toB64url, visitorOfRequest, type VisitorId } from './visitor';

export interface ApiDeps {
  db: Db;
  store: BlobStore;
  renderer: Renderer;
  /** HMAC key for visitor cookies (VISITOR_SECRET). */
  secret: string;
  /** Budgets for publish, vote and new identities (defaults: DEFAULT_RATE_LIMITS). */
  limits?: Partial<RateLimits>;
  /** Where budgets are kept: in memory (default; one process) or shared (databaseLimitStore). */
  limitStore?: LimitStore;
  /** Identity age and per-address vote cap (defaults: DEFAULT_IDENTITY_RULES). */
  identity?: Partial<IdentityRules>;
  /** Renders in flight and waiting per process (default DEFAULT_GATE). */
  gate?: GateOptions;
  /**
   * Who writes X-Forwarded-For (default `{hops: 0}`: nobody; the connection's address, which the
   * platform passes as the handler's second argument, is the client). See address.ts.
   */
  proxy?: ProxyTrust;
  /** How long leaderboard and human-score numbers may be reused, in ms (default SCORE_CACHE_MS). */
  scoreCacheMs?: number;
  /** Log unexpected errors with their stack (DEBUG=1); otherwise one line each. */
  debug?: boolean;
  /** The site's public origin (PUBLIC_URL): share links and the Origin check use it, not Host headers. */
  publicUrl?: string;
  /** Production: cookies are Secure (`__Host-`) unless the host is this machine (see secureContext). */
  production?: boolean;
  /**
   * Days after which an image nobody voted on or shared is removed (IMAGE_RETENTION_DAYS);
   * undefined, the default, keeps every image. See sweepUnwantedImages.
   */
  imageRetentionDays?: number | undefined;
  /** The clock, in ms (tests move it to age identities). */
  now?: () => number;
}

/** The client's address as the platform and the trusted proxies say (see address.ts). */
export interface From {
  /** Contributor key: IPv4 address or IPv6 /64. */
  address: string;
  /** Network key: IPv6 /48; IPv4: the address. */
  network: string;
}

/**
 * The gallery's handler. `peer` is the connection's own address, which only the platform entry
 * knows (a socket's remote address); without it, and with no trusted proxy, every request counts
 * as one unknown address.
 */
export type GalleryHandler = (request: Request, peer?: string) => Promise<Response>;

export type Core = ReturnType<typeof createCore>;

/** One route of the table: a method, a path pattern (`:name` segments) and its handler. */
export interface Route {
  method: 'GET' | 'POST';
  path: string;
  /** One line for docs/api.md: what it takes, returns and who may call it. */
  summary: string;
  handle(request: Request, params: Record<string, string>, from: From): Promise<Response>;
}

export function createCore(deps: ApiDeps) {
  const { db, store, secret } = deps;
  const limits = { ...DEFAULT_RATE_LIMITS, ...deps.limits };
  const rules = { ...DEFAULT_IDENTITY_RULES, ...deps.identity };
  const budgets = deps.limitStore ?? memoryLimitStore(deps.now);
  const renderer = gateRenderer(deps.renderer, deps.gate ?? DEFAULT_GATE);
  const card = createCardCache(store);
  const now = deps.now ?? Date.now;
  const publicOrigin = deps.publicUrl ? new URL(deps.publicUrl).origin : undefined;
  const secure = (request: Request) =>
    publicOrigin?.startsWith('https:') || secureContext(request, deps.production);
  const origin = (request: Request) => publicOrigin ?? new URL(request.url).origin;

  const bucket = (kind: keyof RateLimits, subject: string): Bucket => {
    const l: Limit = limits[kind];
    return { key: `${kind}:${subject}`, limit: l.limit, windowMs: l.windowMs };
  };
  const proxy = deps.proxy ?? { hops: 0 };
  const scoreCacheMs = deps.scoreCacheMs ?? SCORE_CACHE_MS;

  const from = (request: Request, peer: string | undefined): From =>
    addressKeys(clientAddress(request, peer, proxy));
  /** A per-address budget, and for an IPv6 address its /48's, NETWORK_FACTOR times larger. */
  const perAddress = (kind: keyof RateLimits, f: From): Bucket[] => {
    const own = bucket(kind, f.address);
    return f.network === f.address
      ? [own]
      : [
          own,
          {
            key: `${kind}/48:${f.network}`,
            limit: own.limit * NETWORK_FACTOR,
            windowMs: own.windowMs,
          },
        ];
  };

  /** 429 with Retry-After when any of the buckets is empty; nothing is taken then. */
  async function spend(what: string, buckets: Bucket[]): Promise<void> {
    const wait = await budgets.take(buckets);
    if (wait)
      throw new HttpError(429, 'rate_limited', `too many ${what} requests; retry in ${wait} s`, {
        'retry-after': String(wait),
      });
  }

  /**
   * State changes come from the site's own pages: a browser's Sec-Fetch-Site must say so, and an
   * Origin, when sent, must be the site's. Clients that send neither (scripts) pass here and meet
   * the identity rules instead.
   */
  function sameSite(request: Request): void {
    const site = request.headers.get('sec-fetch-site');
    if (site && site !== 'same-origin' && site !== 'none')
      throw new HttpError(403, 'cross_site', 'state changes are accepted from this site only');
    const from = request.headers.get('origin');
    if (from === null) return;
    let host: string | undefined;
    try {
      host = new URL(from).host;
    } catch {
      host = undefined;
    }
    const expected = publicOrigin
      ? new URL(publicOrigin).host
      : (request.headers.get('host') ?? new URL(request.url).host);
    if (host !== expected)
      throw new HttpError(403, 'cross_site', 'state changes are accepted from this site only');
  }

  /** The visitor behind a vote or publish: issued by a page view, and old enough to count. */
  async function countedVisitor(request: Request): Promise<VisitorId> {
    const visitor = await visitorOfRequest(request, secret, secure(request));
    if (!visitor)
      throw new HttpError(
        403,
        'no_identity',
        'votes and publishing need a visitor identity: open a page of the gallery first (GET /api/visitor issues one)',
      );
    const wait = visitor.issuedAt + rules.minAgeS - Math.floor(now() / 1000);
    if (wait > 0)
      throw new HttpError(403, 'identity_too_new', `this visitor identity counts in ${wait} s`, {
        'retry-after': String(wait),
      });
    return visitor;
  }

  /**
   * The access rule of every state change: from the site's own pages, by a counted visitor (an
   * identity old enough), within its address's and its own budget of this kind. Returns it.
   */
  async function admit(
    request: Request,
    f: From,
    what: string,
    perIp: keyof RateLimits,
    perVisitor: keyof RateLimits,
  ): Promise<VisitorId> {
    sameSite(request);
    const visitor = await countedVisitor(request);
    await spend(what, [...perAddress(perIp, f), bucket(perVisitor, visitor.id)]);
    return visitor;
  }

  /** A keyed hash of the client's address (never the address) for the per-address vote cap. */
  const tags = new Map<string, Promise<string>>();
  function addressTag(key: string): Promise<string> {
    let tag = tags.get(key);
    if (!tag) {
      tag = hmac(secret, `address:${key}`).then((mac) => toB64url(mac.subarray(0, 12)));
      const oldest = tags.keys().next();
      if (tags.size >= 10_000 && !oldest.done) tags.delete(oldest.value);
      tags.set(key, tag);
    }
    return tag;
  }

  return {
    db,
    store,
    secret,
    renderer,
    card,
    now,
    limits,
    rules,
    scoreCacheMs,
    imageRetentionDays: deps.imageRetentionDays,
    debug: Boolean(deps.debug),
    secure,
    origin,
    bucket,
    from,
    perAddress,
    spend,
    sameSite,
    admit,
    addressTag,
  };
}
