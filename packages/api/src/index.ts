/**
 * The gallery API as one web-standard handler: Request → Response, JSON in and out, zod on every
 * input, a clear 4xx for bad input. Dependencies come in through createApi (db, blob store,
 * renderer, cookie secret), so the same code is mounted by Next.js route handlers and served by
 * Deno (apps/edge). No Node built-ins here.
 *
 *   GET  /api/models
 *   GET  /api/images?sort=new|top&cursor=…&limit=…
 *   GET  /api/images/:id
 *   POST /api/images              {modelId, seed}      → 201 {id, url, shareUrl}
 *   POST /api/images/:id/vote     {value: 1 | -1 | 0}  → {score, vote}
 */
import { z } from 'zod';
import { concatBytes } from '@ganstudio/models';
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
import type { BlobStore } from '@ganstudio/storage';
import { clientIp, createRateLimiter, DEFAULT_RATE_LIMITS, type RateLimits } from './rate-limit';
import type { Renderer } from './render';
import { visitorFor, type Visitor } from './visitor';

export { createRenderer, type Renderer } from './render';
export * from './rate-limit';
export * from './visitor';

export interface ApiDeps {
  db: Db;
  store: BlobStore;
  renderer: Renderer;
  /** HMAC key for visitor cookies (VISITOR_SECRET). */
  secret: string;
  /** Per-visitor and per-IP budgets for publish and vote (defaults: DEFAULT_RATE_LIMITS). */
  limits?: Partial<RateLimits>;
  /** Proxies in front whose X-Forwarded-For hop is trusted (default 1; see clientIp). */
  trustedProxyHops?: number;
}

/** JSON bodies here are tiny ({modelId, seed}); anything larger is refused before parsing. */
export const MAX_BODY_BYTES = 4096;
const PAGE_SIZE = 24;

const Id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1–64 letters, digits, - or _');
const PublishBody = z
  .object({ modelId: Id, seed: z.number().int().min(0).max(0xffffffff) })
  .strict();
const VoteBody = z.object({ value: z.union([z.literal(1), z.literal(-1), z.literal(0)]) }).strict();
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

export function createApi(deps: ApiDeps): (request: Request) => Promise<Response> {
  const { db, store, renderer, secret } = deps;
  const limits = { ...DEFAULT_RATE_LIMITS, ...deps.limits };
  const limiters = {
    publishVisitor: createRateLimiter(limits.publishPerVisitor),
    publishIp: createRateLimiter(limits.publishPerIp),
    voteVisitor: createRateLimiter(limits.votePerVisitor),
    voteIp: createRateLimiter(limits.votePerIp),
  };
  /** 429 with Retry-After when either budget is spent (the IP budget first: it is the cheaper check). */
  function limit(kind: 'publish' | 'vote', request: Request, visitor: Visitor): void {
    const wait =
      limiters[`${kind}Ip`].take(clientIp(request, deps.trustedProxyHops)) ||
      limiters[`${kind}Visitor`].take(visitor.id);
    if (wait)
      throw new HttpError(429, 'rate_limited', `too many ${kind} requests; retry in ${wait} s`, {
        'retry-after': String(wait),
      });
  }

  async function publish(request: Request): Promise<Response> {
    const visitor = await visitorFor(request, secret);
    limit('publish', request, visitor);
    const body = await readJson(request, PublishBody);
    const model = await getModel(db, body.modelId);
    if (!model) throw new HttpError(404, 'not_found', 'no such model');
    const origin = new URL(request.url).origin;
    const existing = await findImageBySeed(db, model.id, body.seed);
    const cookie: Record<string, string> = visitor.setCookie
      ? { 'set-cookie': visitor.setCookie }
      : {};
    if (existing)
      return json(
        { id: existing.id, url: existing.pngUrl, shareUrl: `${origin}/i/${existing.id}` },
        200,
        cookie,
      );
    const png = await renderer.render(model, body.seed);
    const id = newId();
    const key = `images/${id}.png`;
    // Blob first, then row; on a failed insert the blob is removed, so no row points at nothing.
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
      const image = await insertImage(db, {
        id,
        modelId: model.id,
        seed: body.seed,
        pngUrl: url,
        pngKey: key,
      });
      if (image.id !== id) await store.delete(key); // same seed published concurrently: keep the first
      return json(
        { id: image.id, url: image.pngUrl, shareUrl: `${origin}/i/${image.id}` },
        201,
        cookie,
      );
    } catch (err) {
      await store.delete(key).catch(() => {});
      throw err;
    }
  }

  async function vote(request: Request, imageId: string): Promise<Response> {
    const visitor = await visitorFor(request, secret);
    limit('vote', request, visitor);
    const body = await readJson(request, VoteBody);
    const result = await castVote(db, imageId, visitor.id, body.value);
    return json(result, 200, visitor.setCookie ? { 'set-cookie': visitor.setCookie } : {});
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
    const visitor = await visitorFor(request, secret);
    const mine = await getVotes(
      db,
      visitor.id,
      page.items.map((i) => i.id),
    );
    return json(
      {
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
      },
      200,
      visitor.setCookie ? { 'set-cookie': visitor.setCookie } : {},
    );
  }

  return async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const path = url.pathname.replace(/\/+$/, '');
    try {
      if (path === '/api/models') {
        if (request.method !== 'GET') throw new HttpError(405, 'method_not_allowed', 'GET only');
        const rows = await listModels(db);
        return json({ items: rows.map(({ modelKey: _key, ...m }) => m) });
      }
      if (path === '/api/images') {
        if (request.method === 'GET') return await list(request);
        if (request.method === 'POST') return await publish(request);
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
        return await vote(request, voteMatch[1]!);
      }
      throw new HttpError(404, 'not_found', 'no such endpoint');
    } catch (err) {
      if (err instanceof HttpError) return problem(err);
      if (err instanceof DbError) {
        const status = err.code === 'not_found' ? 404 : err.code === 'bad_cursor' ? 400 : 409;
        return problem(new HttpError(status, err.code, err.message));
      }
      console.error('api error', request.method, path, err);
      return problem(new HttpError(500, 'internal', 'something went wrong; nothing was changed'));
    }
  };
}
