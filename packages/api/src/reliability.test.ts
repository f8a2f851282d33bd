/** Abuse and fault handling of the API: rate limits, and a blob store or database failing mid-publish. */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openDb, type DbHandle } from '@ganstudio/db/client';
import type { BlobStore } from '@ganstudio/storage';
import { createMemoryStore } from '@ganstudio/storage/memory';

import { listImages } from './features/image-list';
import { createApi, createRenderer, type ApiDeps } from './index';
import { createRateLimiter } from './rate-limit';
import { seedTinyModel, visitorCookie, withPeer } from './testing';

let h: DbHandle;
const store = createMemoryStore();
const BASE = 'http://gallery.test';
const req = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  new Request(BASE + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

beforeAll(async () => {
  await tf.setBackend('cpu');
  h = await openDb();
  await seedTinyModel(h.db, store, 'm', 2);
});
afterAll(() => h.close());
/** The API over the shared database and store; each test swaps in its fault or budget. */
const apiWith = (deps: Partial<ApiDeps> = {}) =>
  withPeer(
    createApi({
      db: h.db,
      store,
      renderer: createRenderer(store),
      secret: 'test-secret-123456',
      identity: { minAgeS: 0 },
      ...deps,
    }),
  );
/** An API and one visitor of it (identity issued, old enough): requests carry its cookie. */
async function withVisitor(deps: Partial<ApiDeps> = {}, headers: Record<string, string> = {}) {
  const api = apiWith(deps);
  const cookie = await visitorCookie(api, BASE, headers);
  return { api, cookie: { cookie } };
}

describe('rate limits', () => {
  it('token buckets refill over time and say how long to wait', () => {
    let now = 0;
    const limiter = createRateLimiter({ limit: 2, windowMs: 60_000 }, () => now);
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([0, 0, 30]);
    expect(limiter.take('b')).toBe(0); // per key
    now = 30_000;
    expect(limiter.take('a')).toBe(0);
  });

  it('a visitor over budget gets 429 with Retry-After; another visitor on the same IP does not', async () => {
    const { api, cookie } = await withVisitor({
      limits: { votePerVisitor: { limit: 3, windowMs: 60_000 } },
    });
    const first = await api(req('/api/images', { modelId: 'm', seed: 1 }, cookie));
    const { id } = (await first.json()) as { id: string };
    const codes = [];
    for (let i = 0; i < 5; i++)
      codes.push(
        (await api(req(`/api/images/${id}/vote`, { value: i % 2 ? 1 : -1 }, cookie))).status,
      );
    expect(codes).toEqual([200, 200, 200, 429, 429]);
    const limited = await api(req(`/api/images/${id}/vote`, { value: 1 }, cookie));
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    const other = { cookie: await visitorCookie(api, BASE) };
    expect((await api(req(`/api/images/${id}/vote`, { value: 1 }, other))).status).toBe(200);
  });

  it('many identities from one IP hit the per-IP budget', async () => {
    const api = apiWith({ limits: { publishPerIp: { limit: 2, windowMs: 60_000 } } });
    const ip = { 'x-test-peer': '203.0.113.9' };
    const codes = [];
    for (let s = 10; s < 13; s++) {
      const cookie = await visitorCookie(api, BASE, ip);
      codes.push(
        (await api(req('/api/images', { modelId: 'm', seed: s }, { ...ip, cookie }))).status,
      );
    }
    expect(codes).toEqual([201, 201, 429]);
  });
  it('a made-up X-Forwarded-For hop does not escape the per-IP budget; a trusted proxy hop counts', async () => {
    const api = apiWith({
      limits: { publishPerIp: { limit: 2, windowMs: 60_000 } },
      proxy: { hops: 1 },
    });
    const codes = [];
    // A new identity and a new spoofed address each time, through one appending proxy (the peer).
    for (let s = 20; s < 23; s++) {
      const xff = { 'x-forwarded-for': `10.${s}.0.1, 198.51.100.7`, 'x-test-peer': '192.0.2.1' };
      const cookie = await visitorCookie(api, BASE, xff);
      codes.push(
        (await api(req('/api/images', { modelId: 'm', seed: s }, { ...xff, cookie }))).status,
      );
    }
    expect(codes).toEqual([201, 201, 429]);
    // Behind a CDN and a load balancer (2 trusted hops) two clients of one CDN node are two budgets.
    const behindCdn = apiWith({
      limits: { publishPerIp: { limit: 1, windowMs: 60_000 } },
      proxy: { hops: 2 },
    });
    const viaCdn = async (client: string, seed: number) => {
      const xff = { 'x-forwarded-for': `${client}, 192.0.2.50`, 'x-test-peer': '10.0.0.2' };
      const cookie = await visitorCookie(behindCdn, BASE, xff);
      return behindCdn(req('/api/images', { modelId: 'm', seed }, { ...xff, cookie }));
    };
    expect((await viaCdn('203.0.113.1', 30)).status).toBe(201);
    expect((await viaCdn('203.0.113.2', 31)).status).toBe(201);
    expect((await viaCdn('203.0.113.1', 32)).status).toBe(429);
  });
});

describe('faults mid-publish', () => {
  it('a failing blob store publishes nothing: 503 and no row', async () => {
    const broken: BlobStore = {
      ...store,
      put: async () => Promise.reject(new Error('ECONNRESET')),
    };
    const { api, cookie } = await withVisitor({ store: broken });
    const res = await api(req('/api/images', { modelId: 'm', seed: 777 }, cookie));
    expect(res.status).toBe(503);
    const all = await listImages(h.db, 'new', null, 100);
    expect(all.items.some((i) => i.seed === 777)).toBe(false);
  });

  it('a failing database insert removes the blob it just wrote: no orphan files', async () => {
    const before = store.size();
    const failingDb = new Proxy(h.db, {
      get(target, prop, receiver) {
        if (prop === 'insert')
          return () => ({
            values: () => ({
              onConflictDoNothing: () => ({
                returning: () => Promise.reject(new Error('connection lost')),
              }),
            }),
          });
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    const { api, cookie } = await withVisitor({ db: failingDb });
    const res = await api(req('/api/images', { modelId: 'm', seed: 778 }, cookie));
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /nothing was changed/,
    );
    expect(store.size()).toBe(before);
  });
});

describe('a client that goes away mid-body', () => {
  it('is a 400, not a server error, and its vote is not counted', async () => {
    const { api, cookie } = await withVisitor();
    const { id } = (await (
      await api(req('/api/images', { modelId: 'm', seed: 900 }, cookie))
    ).json()) as {
      id: string;
    };
    // Half a JSON body, then the connection drops (what a disconnect looks like to the handler).
    const cut = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('{"value":'));
        c.error(new Error('aborted'));
      },
    });
    const res = await api(
      new Request(`${BASE}/api/images/${id}/vote`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...cookie },
        body: cut,
        duplex: 'half',
      } as RequestInit),
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('bad_body');
    const image = (await (await api(new Request(`${BASE}/api/images/${id}`))).json()) as unknown;
    expect(image).toMatchObject({ id, score: 0 });
  });
});
