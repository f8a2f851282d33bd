/**
 * Attacks on the vote count and the publish path, each replayed against the API. Every test here
 * failed on the code before the fix (a 200-request loop moved a score by 200, cookie variants
 * filled the verified-value cache, the share card was rebuilt per request, publishes had no
 * site-wide bound, and a malformed cookie or cursor gave 500).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openDb, type DbHandle } from '@ganstudio/db/client';
import { openThrowawayPostgres, postgresReachable } from '@ganstudio/db/testing';
import type { BlobStore } from '@ganstudio/storage';
import { createMemoryStore } from '@ganstudio/storage/memory';

import {
  addressKey,
  cardKey,
  createApi,
  createRenderer,
  databaseLimitStore,
  verifiedCacheSize,
  type ApiDeps,
  type Renderer,
} from './index';
import { seedTinyModel, visitorCookie, withPeer } from './testing';

let h: DbHandle;
const store = createMemoryStore();
const BASE = 'http://gallery.test';
const SECRET = 'abuse-test-secret-0123456789';
const ATTACKER = { 'x-test-peer': '203.0.113.66' };

const post = (
  api: (r: Request) => Promise<Response>,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
) =>
  api(
    new Request(BASE + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    }),
  );
const get = (
  api: (r: Request) => Promise<Response>,
  path: string,
  headers: Record<string, string> = {},
) => api(new Request(BASE + path, { headers }));
const codeOf = async (res: Response) =>
  ((await res.json()) as { error: { code: string } }).error.code;

let clock = Date.UTC(2026, 11, 1);
const apiWith = (deps: Partial<ApiDeps> = {}) =>
  withPeer(
    createApi({
      db: h.db,
      store,
      renderer: createRenderer(store),
      secret: SECRET,
      now: () => clock,
      ...deps,
    }),
  );

/** A published image and the API it was published on (its publisher's identity aged past the rule). */
async function publishedImage(
  api: (r: Request) => Promise<Response>,
  seed: number,
): Promise<string> {
  const cookie = await visitorCookie(api, BASE, { 'x-test-peer': `198.51.100.${seed % 250}` });
  clock += 10_000;
  const res = await post(
    api,
    '/api/images',
    { modelId: 'm', seed },
    { cookie, 'x-test-peer': `198.51.100.${seed % 250}` },
  );
  expect(res.status).toBeLessThan(300);
  return ((await res.json()) as { id: string }).id;
}
const scoreOf = async (api: (r: Request) => Promise<Response>, id: string) =>
  ((await (await get(api, `/api/images/${id}`)).json()) as { score: number }).score;

beforeAll(async () => {
  await tf.setBackend('cpu');
  h = await openDb();
  await seedTinyModel(h.db, store, 'm', 2);
});
afterAll(() => h.close());

describe('1. free identities cannot stuff votes', () => {
  it('200 cookie-less votes move the score by 0: no identity, no vote, no cookie handed out', async () => {
    const api = apiWith();
    const id = await publishedImage(api, 1);
    const codes = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const res = await post(api, `/api/images/${id}/vote`, { value: 1 }, ATTACKER);
      expect(res.headers.get('set-cookie')).toBeNull();
      codes.add(await codeOf(res));
    }
    expect([...codes]).toEqual(['no_identity']);
    expect(await scoreOf(api, id)).toBe(0);
  });

  it('200 rounds of "get a cookie, wait, vote" from one address move the score by at most 3', async () => {
    const api = apiWith();
    const id = await publishedImage(api, 2);
    const outcomes: Record<string, number> = {};
    for (let i = 0; i < 200; i++) {
      const issued = await get(api, '/api/visitor', ATTACKER);
      const cookie = issued.headers.get('set-cookie')?.split(';')[0];
      clock += 6_000; // past the identity's minimum age every time
      const res = cookie
        ? await post(api, `/api/images/${id}/vote`, { value: 1 }, { ...ATTACKER, cookie })
        : issued;
      const key = res.status === 200 ? 'counted' : await codeOf(res);
      outcomes[key] = (outcomes[key] ?? 0) + 1;
    }
    expect(await scoreOf(api, id)).toBe(3);
    // The rest were refused: the address cap, and the address's budget of new identities (30 an hour).
    expect(outcomes['counted']).toBe(3);
    expect((outcomes['address_cap'] ?? 0) + (outcomes['rate_limited'] ?? 0)).toBe(197);
    expect(outcomes['rate_limited']).toBeGreaterThan(150);
    // Another network is unaffected.
    const cookie = await visitorCookie(api, BASE, { 'x-test-peer': '192.0.2.7' });
    clock += 6_000;
    expect(
      (
        await post(
          api,
          `/api/images/${id}/vote`,
          { value: 1 },
          { cookie, 'x-test-peer': '192.0.2.7' },
        )
      ).status,
    ).toBe(200);
  });

  it('a fresh identity counts only after minAgeS; the refusal says when', async () => {
    const api = apiWith({ identity: { minAgeS: 5 } });
    const id = await publishedImage(api, 3);
    const cookie = await visitorCookie(api, BASE);
    clock += 2_000;
    const early = await post(api, `/api/images/${id}/vote`, { value: 1 }, { cookie });
    expect(early.status).toBe(403);
    expect(await codeOf(early)).toBe('identity_too_new');
    expect(early.headers.get('retry-after')).toBe('3');
    clock += 3_000;
    expect((await post(api, `/api/images/${id}/vote`, { value: 1 }, { cookie })).status).toBe(200);
  });

  it('new identities per address are limited, an IPv6 client counting per /64', async () => {
    const api = apiWith({ limits: { mintPerIp: { limit: 3, windowMs: 3_600_000 } } });
    const statuses = [];
    // Five addresses of one /64: one budget.
    for (let i = 1; i <= 5; i++)
      statuses.push(
        (await get(api, '/api/visitor', { 'x-test-peer': `2001:db8:aa:bb::${i}` })).status,
      );
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect((await get(api, '/api/visitor', { 'x-test-peer': '2001:db8:aa:bc::1' })).status).toBe(
      200,
    );
  });

  it('addressKey: IPv4 as is, IPv6 by /64 in any spelling, IPv4-mapped as IPv4', () => {
    expect(addressKey('203.0.113.5')).toBe('203.0.113.5');
    expect(addressKey('2001:db8:aa:bb::1')).toBe('2001:db8:aa:bb::/64');
    expect(addressKey('2001:0DB8:00aa:00bb:ffff:1:2:3')).toBe('2001:db8:aa:bb::/64');
    expect(addressKey('[2001:db8:aa:bb::9]')).toBe('2001:db8:aa:bb::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::ffff:198.51.100.4')).toBe('198.51.100.4');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });
});

describe('2. one cookie has one spelling', () => {
  it('whitespace, padding, percent-encoding and unused low bits are refused and never cached', async () => {
    const api = apiWith({ identity: { minAgeS: 0 } });
    const id = await publishedImage(api, 4);
    const cookie = await visitorCookie(api, BASE);
    const [name, value] = cookie.split('=') as [string, string];
    expect((await post(api, `/api/images/${id}/vote`, { value: 1 }, { cookie })).status).toBe(200);
    const before = verifiedCacheSize(SECRET);
    const sig = value.slice(value.lastIndexOf('.') + 1);
    const body = value.slice(0, value.lastIndexOf('.') + 1);
    // The last base64url character of a 32-byte MAC carries 4 bits; its 2 unused bits make 3 more spellings.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(sig.at(-1)!);
    const lowBits = [1, 2, 3].map(
      (d) => body + sig.slice(0, -1) + alphabet[(last & ~3) | ((last + d) & 3)],
    );
    const variants = [
      `${value}=`,
      `${value}==`,
      body + sig.slice(0, 10) + ' ' + sig.slice(10),
      body + sig.slice(0, 10) + '%20' + sig.slice(10),
      value.replace('.', '%2E'),
      ...lowBits,
    ];
    for (const v of variants) {
      const res = await post(
        api,
        `/api/images/${id}/vote`,
        { value: 1 },
        { cookie: `${name}=${v}` },
      );
      expect(res.status, v).toBe(403);
    }
    expect(verifiedCacheSize(SECRET)).toBe(before);
    expect(await scoreOf(api, id)).toBe(1);
  });
});

describe('3. the share card is built once and stored', () => {
  it('the first request builds and stores it; later ones (any query string) read it back', async () => {
    let puts = 0;
    const counting: BlobStore = {
      ...store,
      put: (...args) => {
        if (args[0].startsWith('cards/')) puts++;
        return store.put(...args);
      },
    };
    const api = apiWith({ store: counting });
    const id = await publishedImage(api, 5);
    const first = await get(api, `/i/${id}/og.png`);
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toMatch(/max-age=31536000/);
    const bytes = new Uint8Array(await first.arrayBuffer());
    expect(new DataView(bytes.buffer).getUint32(16)).toBe(1200);
    expect(new DataView(bytes.buffer).getUint32(20)).toBe(630);
    const again = await Promise.all(
      Array.from({ length: 5 }, (_, x) => get(api, `/i/${id}/og.png?x=${x}`)),
    );
    for (const res of again) expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
    expect(puts).toBe(1);
    expect(await store.get(cardKey(id))).toEqual(bytes);
    expect((await get(api, '/i/nope/og.png')).status).toBe(404);
  });
});

describe('4. publishing is bounded site-wide', () => {
  it('a site-wide publish budget: over it, 429 with Retry-After, across many visitors and addresses', async () => {
    const api = apiWith({
      identity: { minAgeS: 0 },
      limits: { publishGlobal: { limit: 3, windowMs: 60_000 } },
    });
    const statuses = [];
    for (let i = 0; i < 5; i++) {
      const from = { 'x-test-peer': `192.0.2.${100 + i}` };
      const cookie = await visitorCookie(api, BASE, from);
      const res = await post(
        api,
        '/api/images',
        { modelId: 'm', seed: 5000 + i },
        { ...from, cookie },
      );
      statuses.push(res.status);
      if (res.status === 429) expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    expect(statuses).toEqual([201, 201, 201, 429, 429]);
  });

  it('renders in flight are bounded: beyond concurrency + queue, 503 with Retry-After at once', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started = 0;
    const slow: Renderer = {
      backend: 'cpu',
      async render() {
        started++;
        await gate;
        return new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]);
      },
    };
    const api = apiWith({
      identity: { minAgeS: 0 },
      renderer: slow,
      gate: { concurrency: 2, queue: 3 },
    });
    const attempts = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const from = { 'x-test-peer': `192.0.2.${150 + i}` };
        const cookie = await visitorCookie(api, BASE, from);
        return { from, cookie };
      }),
    );
    const pending = attempts.map(({ from, cookie }, i) =>
      post(api, '/api/images', { modelId: 'm', seed: 6000 + i }, { ...from, cookie }),
    );
    await new Promise((r) => setTimeout(r, 50));
    expect(started).toBe(2);
    release();
    const statuses = (await Promise.all(pending)).map((r) => r.status).sort();
    expect(statuses).toEqual([201, 201, 201, 201, 201, 503, 503, 503]);
  });
});

describe('5. malformed input is a 4xx, never a 500', () => {
  it('a cookie that does not percent-decode is no identity; the routes still answer', async () => {
    const api = apiWith();
    const bad = { cookie: 'gs_visitor=%E0%A4%A' };
    expect((await get(api, '/api/images', bad)).status).toBe(200);
    expect((await get(api, '/api/visitor', bad)).status).toBe(200);
    const id = await publishedImage(api, 6);
    const res = await post(api, `/api/images/${id}/vote`, { value: 1 }, bad);
    expect(res.status).toBe(403);
  });

  it('a cursor that decodes to non-dates is a 400', async () => {
    const api = apiWith();
    const cursor = btoa(JSON.stringify(['not-a-date', 'x'])).replace(/=+$/, '');
    const res = await get(api, `/api/images?cursor=${cursor}`);
    expect(res.status).toBe(400);
    expect(await codeOf(res)).toBe('bad_cursor');
  });
});

describe('the rest of the hardening', () => {
  it('cross-site state changes are refused (Sec-Fetch-Site, Origin); same-origin ones pass', async () => {
    const api = apiWith({ identity: { minAgeS: 0 } });
    const id = await publishedImage(api, 7);
    const cookie = await visitorCookie(api, BASE);
    const vote = (headers: Record<string, string>) =>
      post(api, `/api/images/${id}/vote`, { value: 1 }, { cookie, ...headers });
    expect((await vote({ 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await vote({ origin: 'https://evil.example' })).status).toBe(403);
    expect((await vote({ origin: 'null' })).status).toBe(403);
    expect((await vote({ 'sec-fetch-site': 'same-origin', origin: BASE })).status).toBe(200);
  });

  it('over https the cookie is __Host- and Secure; PUBLIC_URL names share links', async () => {
    const api = apiWith({ identity: { minAgeS: 0 }, publicUrl: 'https://gallery.example' });
    const res = await api(new Request('https://gallery.example/api/visitor'));
    const set = res.headers.get('set-cookie')!;
    expect(set).toMatch(
      /^__Host-gs_visitor=[^;]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+; Secure$/,
    );
    const cookie = set.split(';')[0]!;
    // Behind a proxy that rewrote Host, links still point at the public site.
    const pub = await api(
      new Request('http://10.0.0.5:3000/api/images', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          cookie,
          host: 'evil.example',
          origin: 'https://gallery.example',
        },
        body: JSON.stringify({ modelId: 'm', seed: 7000 }),
      }),
    );
    expect(pub.status).toBe(201);
    expect(((await pub.json()) as { shareUrl: string }).shareUrl).toMatch(
      /^https:\/\/gallery\.example\/i\//,
    );
    // The plain-http name is not read over https: a network attacker could have planted it.
    const plain = cookie.replace('__Host-gs_visitor', 'gs_visitor');
    const replanted = await api(
      new Request('https://gallery.example/api/visitor', { headers: { cookie: plain } }),
    );
    expect(replanted.headers.get('set-cookie')).not.toBeNull();
  });
});

describe('budgets kept in the database', () => {
  it('survive a restart of a PGlite gallery: a spent budget stays spent', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'budgets-'));
    const limits = { mintPerIp: { limit: 2, windowMs: 3_600_000 } };
    const from = { 'x-test-peer': '203.0.113.210' };
    const sitting = async (statuses: number[]) => {
      const db = await openDb({ dataDir: folder });
      try {
        const api = withPeer(
          createApi({
            db: db.db,
            store: createMemoryStore(),
            renderer: createRenderer(createMemoryStore()),
            secret: SECRET,
            identity: { minAgeS: 0 },
            limitStore: databaseLimitStore(db.db),
            limits,
          }),
        );
        for (let i = 0; i < statuses.length; i++)
          expect((await get(api, '/api/visitor', from)).status, `request ${i}`).toBe(statuses[i]);
      } finally {
        await db.close();
      }
    };
    await sitting([200, 200]);
    await sitting([429]); // the same process restarted: the address's budget is still spent
  });
});

const pgUp = await postgresReachable();
describe.skipIf(!pgUp)('budgets shared through PostgreSQL', () => {
  it('two API instances on one database spend one budget', async () => {
    const pg = await openThrowawayPostgres();
    try {
      const shared = createMemoryStore();
      await seedTinyModel(pg.db, shared, 'm', 2);
      const instance = () =>
        withPeer(
          createApi({
            db: pg.db,
            store: shared,
            renderer: createRenderer(shared),
            secret: SECRET,
            identity: { minAgeS: 0 },
            limitStore: databaseLimitStore(pg.db),
            limits: { mintPerIp: { limit: 2, windowMs: 3_600_000 } },
          }),
        );
      const [a, b] = [instance(), instance()];
      const from = { 'x-test-peer': '203.0.113.200' };
      expect((await get(a, '/api/visitor', from)).status).toBe(200);
      expect((await get(b, '/api/visitor', from)).status).toBe(200);
      expect((await get(a, '/api/visitor', from)).status).toBe(429);
      expect((await get(b, '/api/visitor', from)).status).toBe(429);
      // A cookie from one instance is an identity on the other.
      const cookie = await visitorCookie(a, BASE);
      expect(await (await get(b, '/api/visitor', { cookie })).json()).toMatchObject({
        visitor: 'known',
      });
    } finally {
      await pg.close();
    }
  });
});
