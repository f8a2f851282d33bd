/**
 * The gallery API as one web-standard handler: Request → Response, JSON in and out, zod on every
 * input, a clear 4xx for bad input. Dependencies come in through createApi (db, blob store,
 * renderer, cookie secret, budget store), so the same code is mounted by Next.js route handlers and
 * served by Deno (apps/edge). No Node built-ins here.
 *
 *   GET  /api/visitor                                  → {visitor: new|known, countsFrom} (+ cookie)
 *   GET  /api/models
 *   GET  /api/images?sort=new|top&cursor=…&limit=…
 *   GET  /api/images/:id
 *   POST /api/images              {modelId, seed}      → 201 {id, url, shareUrl}
 *   POST /api/images/:id/vote     {value: 1 | -1 | 0}  → {score, vote}
 *   GET  /i/:id/og.png                                 → the share card, built once and stored
 *   POST /api/judge                                    → 201 {trialId, imageUrl}   (judge.ts)
 *   GET  /api/judge/:trialId/image                     → the trial's PNG, to its visitor only
 *   POST /api/judge/:trialId      {answer: real|generated} → {correct, truth, modelId?, modelName?, counted}
 *   GET  /api/models/:id/human                         → the model's human numbers (HYPE∞)
 *   GET  /api/leaderboard                              → every model: human numbers, FID, mean vote
 *
 * Who may vote or publish: a visitor identity issued by GET /api/visitor (a page view;
 * at most mintPerIp per client address) and at least `minAgeS` old, from a same-origin page; at
 * most `votersPerAddressPerImage` voters per address on one image. Renders are gated per process
 * and new images budgeted per site and per address. The client address is the connection's own
 * unless proxies are trusted (address.ts); judge answers count per contributor (judge.ts).
 */
import { z } from 'zod';
import { concatBytes } from '@ganstudio/models/image';
import type { Db } from '@ganstudio/db/client';
import {
  castVote,
  DbError,
  findImageBySeed,
  getImage,
  getModel,
  getVotes,
  insertImage,
  listImages,
  listModels,
} from '@ganstudio/db/queries';
import { ID_PATTERN, type Image } from '@ganstudio/db/schema';
import type { BlobStore } from '@ganstudio/storage';
import { createCardCache } from './card';
import { addressKey, clientAddress, networkKey, type ProxyTrust } from './address';
import {
  DEFAULT_IDENTITY_RULES,
  NETWORK_FACTOR,
  DEFAULT_RATE_LIMITS,
  memoryLimitStore,
  type Bucket,
  type IdentityRules,
  type Limit,
  type LimitStore,
  type RateLimits,
} from './rate-limit';
import {
  answer,
  humanScore,
  humanScores,
  JUDGEMENTS_PER_CONTRIBUTOR,
  leaderboard,
  MIN_CONTRIBUTORS_TO_RANK,
  MIN_JUDGEMENTS_TO_RANK,
  OPEN_TRIALS_PER_VISITOR,
  SCORE_CACHE_MS,
  startTrial,
  trialImage,
  TRIAL_TTL_MS,
} from './judge';
import {
  DEFAULT_GATE,
  gateRenderer,
  GateFullError,
  type GateOptions,
  type RenderableModel,
  type Renderer,
} from './render';
import {
  hmac,
  issueVisitor,
  knownVisitor,
  secureContext,
  toB64url,
  type VisitorId,
} from './visitor';

export { createRenderer, gateRenderer, GateFullError, type Renderer } from './render';
export * from './card';
export {
  humanScore,
  humanScores,
  isRanked,
  JUDGEMENTS_PER_CONTRIBUTOR,
  leaderboard,
  MIN_CONTRIBUTORS_TO_RANK,
  MIN_JUDGEMENTS_TO_RANK,
  networksByModel,
  OPEN_TRIALS_PER_VISITOR,
  pickModel,
  sweepTrials,
  TRIAL_TTL_MS,
  type HumanScore,
  type NetworkTally,
} from './judge';
export { VOTE_PRIOR_CONTRIBUTORS } from '@ganstudio/db/judge';
export * from './address';
export * from './settings';
export * from './rate-limit';
export * from './visitor';

export interface ApiDeps {
  db: Db;
  store: BlobStore;
  renderer: Renderer;
  /** HMAC key for visitor cookies (VISITOR_SECRET). */
  secret: string;
  /** Budgets for publish, vote and new identities (defaults: DEFAULT_RATE_LIMITS). */
  limits?: Partial<RateLimits>;
  /** Where budgets are kept: in memory (default; one process) or shared (postgresLimitStore). */
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
  /** The clock, in ms (tests move it to age identities). */
  now?: () => number;
}

/** JSON bodies here are tiny ({modelId, seed}); anything larger is refused before parsing. */
export const MAX_BODY_BYTES = 4096;
const PAGE_SIZE = 24;

const Id = z.string().regex(ID_PATTERN, 'must be 1–64 letters, digits, - or _');
const PublishBody = z
  .object({ modelId: Id, seed: z.number().int().min(0).max(0xffffffff) })
  .strict();
const VoteBody = z.object({ value: z.union([z.literal(1), z.literal(-1), z.literal(0)]) }).strict();
const AnswerBody = z.object({ answer: z.enum(['real', 'generated']) }).strict();
const ListQuery = z.object({
  sort: z.enum(['new', 'top']).default('new'),
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(PAGE_SIZE),
});

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const SECURITY_HEADERS = { 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' };

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...SECURITY_HEADERS, ...headers },
  });
}

function problem(err: HttpError): Response {
  return json({ error: { code: err.code, message: err.message } }, err.status, err.headers);
}

async function readJson<T>(request: Request, schema: z.ZodType<T>): Promise<T> {
  const type = request.headers.get('content-type') ?? '';
  if (!type.toLowerCase().startsWith('application/json'))
    throw new HttpError(415, 'unsupported_media_type', 'send Content-Type: application/json');
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_BODY_BYTES)
    throw new HttpError(413, 'too_large', `body over ${MAX_BODY_BYTES} bytes`);
  // Count what actually arrives too: Content-Length can be absent or lie.
  const reader = request.body?.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (reader) {
    // A client that disconnects or cuts its body short errors the stream: that is bad input.
    const { done, value } = await reader.read().catch(() => {
      throw new HttpError(400, 'bad_body', 'the request body was cut off');
    });
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel();
      throw new HttpError(413, 'too_large', `body over ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(value);
  }
  const text = new TextDecoder().decode(concatBytes(chunks));
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'bad_json', 'body is not valid JSON');
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new HttpError(
      400,
      'invalid',
      `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}

/** 16 base62 characters from Web Crypto: ~95 bits, not enumerable. */
export function newId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  // 256 mod 62 ≠ 0 leaves a tiny bias (4 of 62 symbols slightly likelier): irrelevant for ids.
  return Array.from(bytes, (b) => alphabet[b % 62]).join('');
}

/**
 * Renders (model, seed) on the server and registers the image: blob first, then row; on a failed
 * insert the blob is removed, so no row points at nothing. The same model and seed published
 * concurrently keep the first image.
 */
async function storeNewImage(
  { db, store, renderer }: Pick<ApiDeps, 'db' | 'store' | 'renderer'>,
  model: RenderableModel,
  seed: number,
): Promise<Image> {
  const png = await renderer.render(model, seed);
  const id = newId();
  const key = `images/${id}.png`;
  let url: string;
  try {
    ({ url } = await store.put(key, png, 'image/png'));
  } catch (err) {
    await store.delete(key).catch(() => {}); // a partial upload, if the store left one
    console.error('blob store put failed', err);
    throw new HttpError(
      503,
      'storage_unavailable',
      'the image store is unavailable; nothing was published, try again',
    );
  }
  try {
    const image = await insertImage(db, { id, modelId: model.id, seed, pngUrl: url, pngKey: key });
    if (image.id !== id) await store.delete(key); // same seed published concurrently: keep the first
    return image;
  } catch (err) {
    await store.delete(key).catch(() => {});
    throw err;
  }
}

/**
 * A new gallery is not empty: the default model's images for seeds 0…count−1, published once on
 * first start (a model that has images already is left alone).
 */
export async function publishStarterSet(
  deps: Pick<ApiDeps, 'db' | 'store' | 'renderer'>,
  count = 24,
): Promise<number> {
  const model = (await listModels(deps.db)).find((m) => m.isDefault);
  if (!model || (await listImages(deps.db, 'new', null, 1)).items.length) return 0;
  for (let seed = 0; seed < count; seed++) await storeNewImage(deps, model, seed);
  return count;
}

/**
 * The gallery's handler. `peer` is the connection's own address, which only the platform entry
 * knows (a socket's remote address); without it, and with no trusted proxy, every request counts
 * as one unknown address.
 */
export type GalleryHandler = (request: Request, peer?: string) => Promise<Response>;

export function createApi(deps: ApiDeps): GalleryHandler {
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

  /** The client's address as the platform and the trusted proxies say (see address.ts). */
  interface From {
    /** Contributor key: IPv4 address or IPv6 /64. */
    address: string;
    /** Network key: IPv6 /48; IPv4: the address. */
    network: string;
  }
  const from = (request: Request, peer: string | undefined): From => {
    const ip = clientAddress(request, peer, proxy);
    return { address: addressKey(ip), network: networkKey(ip) };
  };
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
  async function voter(request: Request): Promise<VisitorId> {
    const visitor = await knownVisitor(request, secret, secure(request));
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

  /** A keyed hash of the client's address (never the address) for the per-address vote cap. */
  const tags = new Map<string, Promise<string>>();
  function addressTag(key: string): Promise<string> {
    let tag = tags.get(key);
    if (!tag) {
      tag = hmac(secret, `address:${key}`).then((mac) => toB64url(mac.subarray(0, 12)));
      if (tags.size >= 10_000) tags.delete(tags.keys().next().value!);
      tags.set(key, tag);
    }
    return tag;
  }

  async function visitorEndpoint(request: Request, f: From): Promise<Response> {
    const isSecure = secure(request);
    const existing = await knownVisitor(request, secret, isSecure);
    const countsFrom = (v: VisitorId) =>
      new Date((v.issuedAt + rules.minAgeS) * 1000).toISOString();
    if (existing) return json({ visitor: 'known', countsFrom: countsFrom(existing) });
    await spend('new visitor', perAddress('mintPerIp', f));
    const fresh = await issueVisitor(secret, isSecure, now());
    return json({ visitor: 'new', countsFrom: countsFrom(fresh) }, 200, {
      'set-cookie': fresh.setCookie,
    });
  }

  async function publish(request: Request, f: From): Promise<Response> {
    sameSite(request);
    const visitor = await voter(request);
    await spend('publish', [
      ...perAddress('publishPerIp', f),
      bucket('publishPerVisitor', visitor.id),
    ]);
    const body = await readJson(request, PublishBody);
    const model = await getModel(db, body.modelId);
    if (!model) throw new HttpError(404, 'not_found', 'no such model');
    const existing = await findImageBySeed(db, model.id, body.seed);
    if (existing)
      return json({
        id: existing.id,
        url: existing.pngUrl,
        shareUrl: `${origin(request)}/i/${existing.id}`,
      });
    // Only a new image renders and is stored, so only it spends the site's budget, and one address
    // may spend a small share of that (its own daily budget), so it cannot use up everyone's.
    await spend('publish', [
      ...perAddress('publishPerIpDaily', f),
      bucket('publishGlobal', 'site'),
      bucket('publishGlobalDaily', 'site'),
    ]);
    const image = await storeNewImage({ db, store, renderer }, model, body.seed);
    return json(
      { id: image.id, url: image.pngUrl, shareUrl: `${origin(request)}/i/${image.id}` },
      201,
    );
  }

  async function vote(request: Request, imageId: string, f: From): Promise<Response> {
    sameSite(request);
    const visitor = await voter(request);
    await spend('vote', [...perAddress('votePerIp', f), bucket('votePerVisitor', visitor.id)]);
    const body = await readJson(request, VoteBody);
    const result = await castVote(db, imageId, visitor.id, body.value, {
      addr: await addressTag(f.address),
      cap: rules.votersPerAddressPerImage,
    });
    return json(result);
  }

  async function list(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const parsed = ListQuery.safeParse(Object.fromEntries(url.searchParams));
    if (!parsed.success)
      throw new HttpError(400, 'invalid', parsed.error.issues[0]?.message ?? 'bad query');
    const page = await listImages(
      db,
      parsed.data.sort,
      parsed.data.cursor ?? null,
      parsed.data.limit,
    );
    const visitor = await knownVisitor(request, secret, secure(request));
    const mine = visitor
      ? await getVotes(
          db,
          visitor.id,
          page.items.map((i) => i.id),
        )
      : new Map<string, number>();
    return json({
      items: page.items.map((i) => ({
        id: i.id,
        modelId: i.modelId,
        modelName: i.modelName,
        seed: i.seed,
        url: i.pngUrl,
        score: i.score,
        createdAt: i.createdAt,
        myVote: mine.get(i.id) ?? 0,
      })),
      nextCursor: page.nextCursor,
    });
  }

  async function judgeStart(request: Request, f: From): Promise<Response> {
    sameSite(request);
    const visitor = await voter(request);
    await spend('judge', [...perAddress('judgePerIp', f), bucket('judgePerVisitor', visitor.id)]);
    const origin = {
      contributor: await addressTag(f.address),
      network: await addressTag(f.network),
    };
    const started = await startTrial(db, renderer, visitor.id, origin, newId, now());
    if (!started.ok && started.reason === 'too_many_open')
      throw new HttpError(
        429,
        'too_many_open',
        `answer your open trials first (at most ${OPEN_TRIALS_PER_VISITOR} at a time; each expires in ${TRIAL_TTL_MS / 60_000} minutes)`,
        { 'retry-after': '5' },
      );
    if (!started.ok)
      throw new HttpError(
        503,
        started.reason,
        started.reason === 'no_models'
          ? 'no model is published yet'
          : 'no real images are registered (ganstudio real-set, then publish --real-set)',
      );
    return json({ trialId: started.trialId, imageUrl: `/api/judge/${started.trialId}/image` }, 201);
  }

  /** The exact bytes of a trial, to its visitor; the same headers whatever the truth. */
  async function judgeImageOf(request: Request, trialId: string): Promise<Response> {
    const visitor = await knownVisitor(request, secret, secure(request));
    const trial = Id.safeParse(trialId).success ? await trialImage(db, trialId) : undefined;
    if (!trial || !trial.png || trial.expiresAt.getTime() < now())
      throw new HttpError(404, 'not_found', 'no such trial image');
    if (trial.visitorId !== visitor?.id)
      throw new HttpError(403, 'not_yours', 'this trial belongs to another visitor');
    return new Response(trial.png as Uint8Array<ArrayBuffer>, {
      headers: {
        'content-type': 'image/png',
        'cache-control': 'private, no-store',
        'x-content-type-options': 'nosniff',
      },
    });
  }

  async function judgeAnswerOf(request: Request, trialId: string, f: From): Promise<Response> {
    sameSite(request);
    const visitor = await knownVisitor(request, secret, secure(request));
    if (!visitor)
      throw new HttpError(
        403,
        'no_identity',
        'answers need the visitor identity that got the trial',
      );
    await spend('answer', [
      ...perAddress('answerPerIp', f),
      bucket('answerPerVisitor', visitor.id),
    ]);
    const body = await readJson(request, AnswerBody);
    if (!Id.safeParse(trialId).success) throw new HttpError(404, 'not_found', 'no such trial');
    const r = await answer(db, trialId, visitor.id, body.answer);
    if (!r.ok) {
      const [status, message] = {
        not_found: [404, 'no such trial'],
        not_yours: [403, 'this trial belongs to another visitor'],
        answered: [409, 'this trial was answered already'],
        expired: [410, `this trial expired (${TRIAL_TTL_MS / 60_000} minutes to answer)`],
      }[r.reason] as [number, string];
      throw new HttpError(status, r.reason, message);
    }
    return json({
      correct: r.correct,
      truth: r.truth,
      ...(r.modelId ? { modelId: r.modelId, modelName: r.modelName } : {}),
      counted: r.counted,
    });
  }

  async function shareCard(imageId: string): Promise<Response> {
    const image = Id.safeParse(imageId).success ? await getImage(db, imageId) : undefined;
    const bytes = image ? await card(image) : undefined;
    if (!bytes) throw new HttpError(404, 'not_found', 'no such image');
    return new Response(bytes as Uint8Array<ArrayBuffer>, {
      headers: {
        'content-type': 'image/png',
        // An image's card never changes: its id is never reused and its pixels are fixed.
        'cache-control': 'public, max-age=31536000, immutable',
        'x-content-type-options': 'nosniff',
      },
    });
  }

  return async function handle(request: Request, peer?: string): Promise<Response> {
    const url = new URL(request.url);
    const path = url.pathname.replace(/\/+$/, '');
    const f = from(request, peer);
    try {
      if (path === '/api/visitor') {
        if (request.method !== 'GET') throw new HttpError(405, 'method_not_allowed', 'GET only');
        return await visitorEndpoint(request, f);
      }
      if (path === '/api/models') {
        if (request.method !== 'GET') throw new HttpError(405, 'method_not_allowed', 'GET only');
        const rows = await listModels(db);
        return json({ items: rows.map(({ modelKey: _key, ...m }) => m) });
      }
      if (path === '/api/images') {
        if (request.method === 'GET') return await list(request);
        if (request.method === 'POST') return await publish(request, f);
        throw new HttpError(405, 'method_not_allowed', 'GET or POST');
      }
      const one = /^\/api\/images\/([^/]+)$/.exec(path);
      if (one) {
        if (request.method !== 'GET') throw new HttpError(405, 'method_not_allowed', 'GET only');
        const image = Id.safeParse(one[1]).success ? await getImage(db, one[1]!) : undefined;
        if (!image) throw new HttpError(404, 'not_found', 'no such image');
        return json({
          id: image.id,
          modelId: image.modelId,
          modelName: image.modelName,
          seed: image.seed,
          url: image.pngUrl,
          score: image.score,
          createdAt: image.createdAt,
        });
      }
      const voteMatch = /^\/api\/images\/([^/]+)\/vote$/.exec(path);
      if (voteMatch) {
        if (request.method !== 'POST') throw new HttpError(405, 'method_not_allowed', 'POST only');
        if (!Id.safeParse(voteMatch[1]).success)
          throw new HttpError(404, 'not_found', 'no such image');
        return await vote(request, voteMatch[1]!, f);
      }
      if (path === '/api/judge') {
        if (request.method !== 'POST') throw new HttpError(405, 'method_not_allowed', 'POST only');
        return await judgeStart(request, f);
      }
      const judgeImage = /^\/api\/judge\/([^/]+)\/image$/.exec(path);
      if (judgeImage) {
        if (request.method !== 'GET') throw new HttpError(405, 'method_not_allowed', 'GET only');
        return await judgeImageOf(request, judgeImage[1]!);
      }
      const judgeAnswer = /^\/api\/judge\/([^/]+)$/.exec(path);
      if (judgeAnswer) {
        if (request.method !== 'POST') throw new HttpError(405, 'method_not_allowed', 'POST only');
        return await judgeAnswerOf(request, judgeAnswer[1]!, f);
      }
      const human = /^\/api\/models\/([^/]+)\/human$/.exec(path);
      if (human) {
        if (request.method !== 'GET') throw new HttpError(405, 'method_not_allowed', 'GET only');
        const model = Id.safeParse(human[1]).success ? await getModel(db, human[1]!) : undefined;
        if (!model) throw new HttpError(404, 'not_found', 'no such model');
        return json((await humanScores(db, scoreCacheMs)).get(model.id) ?? humanScore(model.id));
      }
      if (path === '/api/leaderboard') {
        if (request.method !== 'GET') throw new HttpError(405, 'method_not_allowed', 'GET only');
        return json({
          items: await leaderboard(db, scoreCacheMs),
          minJudgements: MIN_JUDGEMENTS_TO_RANK,
          minContributors: MIN_CONTRIBUTORS_TO_RANK,
          judgementsPerContributor: JUDGEMENTS_PER_CONTRIBUTOR,
        });
      }
      const cardMatch = /^\/i\/([^/]+)\/og\.png$/.exec(path);
      if (cardMatch) {
        if (request.method !== 'GET') throw new HttpError(405, 'method_not_allowed', 'GET only');
        return await shareCard(cardMatch[1]!);
      }
      throw new HttpError(404, 'not_found', 'no such endpoint');
    } catch (err) {
      if (err instanceof HttpError) return problem(err);
      // Renders beyond the gate's slots and queue are refused at once, never queued without bound.
      if (err instanceof GateFullError)
        return problem(
          new HttpError(503, 'busy', 'the server is rendering at capacity; retry in 1 s', {
            'retry-after': '1',
          }),
        );
      if (err instanceof DbError) {
        const status = { not_found: 404, bad_cursor: 400, address_cap: 403, conflict: 409 }[
          err.code
        ];
        return problem(new HttpError(status, err.code, err.message));
      }
      // One line per failure; the stack only when asked for (DEBUG=1), so bad traffic cannot flood the log.
      if (deps.debug) console.error('api error', request.method, path, err);
      else
        console.error(
          `api error: ${request.method} ${path}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
        );
      return problem(new HttpError(500, 'internal', 'something went wrong; nothing was changed'));
    }
  };
}
