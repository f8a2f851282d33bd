import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { eq, inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openDb, type DbHandle } from '@ganstudio/db/client';
import { images, models } from '@ganstudio/db/schema';
import { decodePng } from '@ganstudio/models/image';
import type { Measurement } from '@ganstudio/models/measurement';
import { createLocalStore } from '@ganstudio/storage/local';

import { renderShareCard } from './card';
import { upsertRun } from './features/runs';
import {
  createApi,
  createRenderer,
  MAX_BODY_BYTES,
  MAX_URL_BYTES,
  scaleLimits,
  type ApiDeps,
} from './index';
import { DEFAULT_RATE_LIMITS } from './policy';
import { CIFAR_CLASSES, seedTinyModel, visitorCookie, withPeer } from './testing';

let h: DbHandle;
let api: (r: Request) => Promise<Response>;
/** The Cookie header of this suite's visitor (identity age is tested in reliability.test.ts). */
let me: string;
const store = createLocalStore(mkdtempSync(join(tmpdir(), 'api-blobs-')));
const BASE = 'http://gallery.test';

function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return api(
    new Request(BASE + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: me, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
  );
}

/** A gallery on this suite's database and store: `deps` on top of the suite's defaults. */
const galleryWith = (deps: Partial<ApiDeps> = {}) =>
  withPeer(
    createApi({
      db: h.db,
      store,
      renderer: createRenderer(store),
      secret: 'test-secret-0123456789',
      identity: { minAgeS: 0 },
      scoreCacheMs: 0,
      ...deps,
    }),
  );

beforeAll(async () => {
  await tf.setBackend('cpu');
  h = await openDb();
  // Each seeded model becomes the default: the 32×32 one, seeded last, stays it.
  await seedTinyModel(h.db, store, 'tiny64', 4, 64);
  await seedTinyModel(h.db, store, 'tiny');
  await seedTinyModel(h.db, store, 'tinycond', 4, 32, CIFAR_CLASSES);
  api = galleryWith();
  me = await visitorCookie(api, BASE);
});
afterAll(() => h.close());

describe('POST /api/images', () => {
  it('re-renders the image on the server from model + seed and returns its share URL', async () => {
    const res = await post('/api/images', { modelId: 'tiny', seed: 42 });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { id: string; url: string; shareUrl: string };
    expect(body.id).toMatch(/^[A-Za-z0-9]{16}$/);
    expect(body.shareUrl).toBe(`${BASE}/i/${body.id}`);
    const png = await store.get(`images/${body.id}.png`);
    expect(Array.from(png!.subarray(1, 4))).toEqual([80, 78, 71]);
    // The same seed again is the same image, not a duplicate.
    const again = await post('/api/images', { modelId: 'tiny', seed: 42 });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { id: string }).id).toBe(body.id);
  });

  it('a 64×64 model renders 64×64 PNGs, listed with its resolution, and a card that fits them', async () => {
    const res = await post('/api/images', { modelId: 'tiny64', seed: 3 });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    const png = decodePng((await store.get(`images/${id}.png`))!);
    expect([png.width, png.height]).toEqual([64, 64]);
    const listed = (await (await api(new Request(`${BASE}/api/models`))).json()) as {
      items: { id: string; resolution: number }[];
    };
    expect(listed.items.find((m) => m.id === 'tiny64')?.resolution).toBe(64);
    expect(listed.items.find((m) => m.id === 'tiny')?.resolution).toBe(32);
    // The card upscales ×8 (512 px, as ×16 does for 32×32) and centres it on 1200×630.
    const card = decodePng(renderShareCard((await store.get(`images/${id}.png`))!));
    expect([card.width, card.height]).toEqual([1200, 630]);
    const at = (x: number, y: number) =>
      Array.from(card.data.subarray((y * 1200 + x) * 4, (y * 1200 + x) * 4 + 3));
    expect(at(344, 59)).toEqual(Array.from(png.data.subarray(0, 3))); // first sample pixel, top-left of the 512 px square
    expect(at(344 + 511, 59 + 511)).toEqual(
      Array.from(png.data.subarray((64 * 64 - 1) * 4, (64 * 64 - 1) * 4 + 3)),
    );
  });

  it('a conditional model renders the class asked for, by name or index, and refuses the rest', async () => {
    const listed = (await (await api(new Request(`${BASE}/api/models`))).json()) as {
      items: { id: string; conditional: boolean; classes: string[] | null }[];
    };
    expect(listed.items.find((m) => m.id === 'tinycond')).toMatchObject({
      conditional: true,
      classes: CIFAR_CLASSES,
    });
    expect(listed.items.find((m) => m.id === 'tiny')).toMatchObject({
      conditional: false,
      classes: null,
    });
    const horse = await post('/api/images', { modelId: 'tinycond', seed: 5, class: 'horse' });
    expect(horse.status).toBe(201);
    const { id } = (await horse.json()) as { id: string };
    // The same seed by index is the same image; another class is another image.
    const seven = await post('/api/images', { modelId: 'tinycond', seed: 5, class: 7 });
    expect(((await seven.json()) as { id: string }).id).toBe(id);
    const ship = await post('/api/images', { modelId: 'tinycond', seed: 5, class: 'ship' });
    expect(ship.status).toBe(201);
    const shipId = ((await ship.json()) as { id: string }).id;
    expect(shipId).not.toBe(id);
    const shown = (await (await api(new Request(`${BASE}/api/images/${id}`))).json()) as {
      class: number;
      className: string;
    };
    expect(shown).toMatchObject({ class: 7, className: 'horse' });
    const a = decodePng((await store.get(`images/${id}.png`))!);
    const b = decodePng((await store.get(`images/${shipId}.png`))!);
    expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(false);
    for (const [body, code, message] of [
      [{ modelId: 'tinycond', seed: 5, class: 'zebra' }, 'unknown_class', /unknown class "zebra"/],
      [{ modelId: 'tinycond', seed: 5, class: 10 }, 'unknown_class', /unknown class "10"/],
      [{ modelId: 'tinycond', seed: 5 }, 'invalid', /draws a class: give one of airplane/],
      [{ modelId: 'tiny', seed: 5, class: 'horse' }, 'invalid', /unconditional/],
    ] as const) {
      const res = await post('/api/images', body);
      expect(res.status).toBe(400);
      const { error: err } = (await res.json()) as { error: { code: string; message: string } };
      expect(err.code).toBe(code);
      expect(err.message).toMatch(message);
    }
  });

  it('answers bad input with a clear 4xx and stores nothing', async () => {
    const cases: [Promise<Response>, number, RegExp][] = [
      [post('/api/images', '{"modelId": "tiny", "seed": 1', {}), 400, /not valid JSON/],
      [post('/api/images', { modelId: 'tiny', seed: 'one' }), 400, /seed/],
      [post('/api/images', { modelId: 'tiny', seed: -1 }), 400, /seed/],
      [post('/api/images', { modelId: 'tiny', seed: 2 ** 32 }), 400, /seed/],
      [
        post('/api/images', { modelId: 'tiny', seed: 1, pixels: [1, 2] }),
        400,
        /pixels|Unrecognized/i,
      ],
      [post('/api/images', { modelId: "x' or 1=1 --", seed: 1 }), 400, /modelId/],
      [post('/api/images', { modelId: 'ghost', seed: 1 }), 404, /no such model/],
      [post('/api/images', 'x'.repeat(MAX_BODY_BYTES + 1)), 413, /body over/],
      [
        post('/api/images', { modelId: 'tiny', seed: 1 }, { 'content-type': 'text/plain' }),
        415,
        /application\/json/,
      ],
    ];
    for (const [pending, status, message] of cases) {
      const res = await pending;
      expect(res.status).toBe(status);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(message);
    }
  });
});

describe('votes', () => {
  it('one vote per visitor: a signed cookie carries the identity; changes and withdrawals count once', async () => {
    const { id } = (await (await post('/api/images', { modelId: 'tiny', seed: 7 })).json()) as {
      id: string;
    };
    const issued = await api(
      new Request(`${BASE}/api/visitor`, { headers: { 'x-test-peer': '198.51.100.20' } }),
    );
    expect(await issued.json()).toMatchObject({ visitor: 'new' });
    const cookie = issued.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^gs_visitor=[^;]+; Path=\/; HttpOnly; SameSite=Lax/);
    const mine = { cookie: cookie.split(';')[0]! };
    // A page view with the cookie keeps the identity rather than issuing another.
    const again = await api(new Request(`${BASE}/api/visitor`, { headers: mine }));
    expect(await again.json()).toMatchObject({ visitor: 'known' });
    expect(again.headers.get('set-cookie')).toBeNull();
    for (const [value, score] of [
      [1, 1],
      [1, 1],
      [-1, -1],
      [0, 0],
      [1, 1],
    ] as const)
      expect(await (await post(`/api/images/${id}/vote`, { value }, mine)).json()).toEqual({
        score,
        vote: value,
      });

    // A tampered cookie is nobody: refused, nothing counted, no identity handed out.
    const forged = { cookie: mine.cookie.replace(/.(?=\.)/, (c) => (c === 'a' ? 'b' : 'a')) };
    const res = await post(`/api/images/${id}/vote`, { value: 1 }, forged);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('no_identity');
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(await (await post(`/api/images/${id}/vote`, { value: 1 })).json()).toEqual({
      score: 2,
      vote: 1,
    });

    const list = (await (
      await api(new Request(`${BASE}/api/images?sort=top`, { headers: mine }))
    ).json()) as {
      items: { id: string; score: number; myVote: number }[];
    };
    expect(list.items[0]).toMatchObject({ id, score: 2, myVote: 1 });
  });

  it('rejects bad values and unknown images', async () => {
    expect((await post('/api/images/nope/vote', { value: 1 })).status).toBe(404);
    expect((await post('/api/images/nope/vote', { value: 2 })).status).toBe(400);
    expect((await post("/api/images/a'b/vote", { value: 1 })).status).toBe(404);
  });
});

describe('the retention rule', () => {
  it('IMAGE_RETENTION_DAYS removes old images nobody voted on or shared; unset keeps them all', async () => {
    // Galleries of their own on this database (budgets of their own), one with a 30-day rule.
    let clock = Date.now();
    const gallery = (imageRetentionDays?: number) =>
      galleryWith({
        limits: scaleLimits(DEFAULT_RATE_LIMITS, 100),
        imageRetentionDays,
        now: () => clock,
      });
    const [keeping, keepAll] = [gallery(30), gallery()];
    const publish = async (gallery: typeof api, seed: number) => {
      const res = await gallery(
        new Request(`${BASE}/api/images`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', cookie: me },
          body: JSON.stringify({ modelId: 'tiny', seed }),
        }),
      );
      expect(res.status).toBe(201);
      return ((await res.json()) as { id: string }).id;
    };
    const [plain, voted, shared, young, unmarked] = [
      await publish(keeping, 9001),
      await publish(keeping, 9002),
      await publish(keeping, 9003),
      await publish(keeping, 9004),
      await publish(keepAll, 9005),
    ] as [string, string, string, string, string];
    expect((await post(`/api/images/${voted}/vote`, { value: -1 })).status).toBe(200);
    expect((await api(new Request(`${BASE}/i/${shared}/og.png`))).status).toBe(200);
    await h.db
      .update(images)
      .set({ createdAt: sql`now() - interval '31 days'` })
      .where(inArray(images.id, [plain, voted, shared, unmarked]));
    const alive = async () => (await h.db.select({ id: images.id }).from(images)).map((i) => i.id);

    // Without the setting a publish sweeps nothing: 31-day-old unvoted images stay.
    await publish(keepAll, 9006);
    expect(await alive()).toEqual(expect.arrayContaining([plain, unmarked]));
    // With it (an hour after its last sweep), the next publish removes the unwanted ones.
    clock += 3_600_000;
    await publish(keeping, 9007);
    const left = await alive();
    expect(left).not.toContain(plain);
    expect(left).not.toContain(unmarked);
    expect(left).toEqual(expect.arrayContaining([voted, shared, young]));
    expect(await store.get(`images/${plain}.png`)).toBeUndefined();
    expect(await store.get(`images/${voted}.png`)).toBeDefined();
    expect((await api(new Request(`${BASE}/api/images/${plain}`))).status).toBe(404);
  });
});

describe('GET', () => {
  it('lists models without storage internals, images by cursor, and 404s the rest', async () => {
    const models = (await (await api(new Request(`${BASE}/api/models`))).json()) as {
      items: Record<string, unknown>[];
    };
    expect(models.items[0]).toMatchObject({ id: 'tiny', quantization: 'uint8', isDefault: true });
    expect(models.items[0]).not.toHaveProperty('modelKey');
    const page = (await (await api(new Request(`${BASE}/api/images?limit=1`))).json()) as {
      items: unknown[];
      nextCursor: string;
    };
    expect(page.items).toHaveLength(1);
    const next = (await (
      await api(new Request(`${BASE}/api/images?limit=1&cursor=${page.nextCursor}`))
    ).json()) as { items: unknown[] };
    expect(next.items).toHaveLength(1);
    expect((await api(new Request(`${BASE}/api/images?cursor=garbage`))).status).toBe(400);
    expect((await api(new Request(`${BASE}/api/images?sort=random`))).status).toBe(400);
    expect((await api(new Request(`${BASE}/api/nothing`))).status).toBe(404);
    expect((await api(new Request(`${BASE}/api/models`, { method: 'DELETE' }))).status).toBe(405);
  });
});

describe('GET /api/leaderboard', () => {
  it("shows each model's measurement from its run's curve at the model's own epoch, with its passport", async () => {
    // A run measured after epochs 9 and 10 (metrics count epochs from 1), its epoch-10 model.
    const passport = {
      feature_network: 'cifar10-classifier@x',
      resize: 'none (32×32)',
      samples: 2000,
      reference: { name: 'cifar10', split: 'train', count: 50000, digest: 'sha256:ab' },
      latent_protocol: 'stream batches',
      weights: 'ema',
      quantization: 'float32',
    };
    await upsertRun(
      h.db,
      {
        id: 'fid-run',
        name: 'fid-run',
        config: { curve: { passport } },
        status: 'finished',
        backend: 'wasm',
        epochs: 10,
      },
      [],
      [
        { step: 7029, epoch: 9, fid: 2.84, is_mean: 2.1 },
        { step: 7810, epoch: 10, fid: 2.67, is_mean: 2.12 },
      ],
    );
    await seedTinyModel(h.db, store, 'fid-model');
    await h.db
      .update(models)
      .set({ runId: 'fid-run', epoch: 10 })
      .where(eq(models.id, 'fid-model'));
    const board = (await (await api(new Request(`${BASE}/api/leaderboard`))).json()) as {
      items: { modelId: string; measurement: Measurement | null }[];
    };
    const row = board.items.find((r) => r.modelId === 'fid-model')!;
    expect(row.measurement?.fid).toBeCloseTo(2.67, 5);
    expect(row.measurement?.is_mean).toBeCloseTo(2.12, 5);
    expect(row.measurement?.passport).toEqual(passport);
    // A model never measured, and a run without a curve, say so with null.
    expect(board.items.find((r) => r.modelId === 'tiny')?.measurement).toBeNull();
  });
});

describe('request paths in linear time', () => {
  it('trailing slashes cost one pass; a URL over 8 KiB is refused with 414 before any work', async () => {
    // `/api` + slashes + `x` made a backtracking regex quadratic: 60,000 slashes took 1.3 s.
    const time = async (path: string) => {
      const started = performance.now();
      const res = await api(new Request(BASE + path));
      return { status: res.status, ms: performance.now() - started };
    };
    const near = await time(`/api${'/'.repeat(MAX_URL_BYTES - 64)}x`);
    expect(near.status).toBe(404);
    const huge = await time(`/api${'/'.repeat(64 * 1024)}x`);
    expect(huge.status).toBe(414);
    expect((await api(new Request(`${BASE}/api/models${'/'.repeat(3)}`))).status).toBe(200);
    // Generous bounds (the quadratic took 26 ms at 8,000 slashes and 1,300 ms at 60,000).
    expect(near.ms).toBeLessThan(50);
    expect(huge.ms).toBeLessThan(50);
  });
});
