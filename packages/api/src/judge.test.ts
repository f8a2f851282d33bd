/** The "real or generated?" game and its scoring (HYPE∞, Zhou et al. 2019). */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type DbHandle } from '@ganstudio/db/client';
import { insertRealSet } from '@ganstudio/db/judge';
import { trials } from '@ganstudio/db/schema';
import { decodePng, encodePng } from '@ganstudio/models/image';
import { createMemoryStore } from '@ganstudio/storage/memory';
import { createApi, createRenderer, humanScore, wilson, type ApiDeps } from './index';
import { seedTinyModel, visitorCookie } from './testing';

let h: DbHandle;
const store = createMemoryStore();
const BASE = 'http://gallery.test';
type Api = (r: Request) => Promise<Response>;

const apiWith = (deps: Partial<ApiDeps> = {}): Api =>
  createApi({
    db: h.db,
    store,
    renderer: createRenderer(store),
    secret: 'judge-test-secret-0123456789',
    identity: { minAgeS: 0 },
    ...deps,
  });
const post = (api: Api, path: string, body: unknown, cookie: string) =>
  api(
    new Request(BASE + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
  );

/** The truth of a trial, read from the database (scripts playing a part; the API never says). */
const truthOf = async (id: string) => (await h.db.select().from(trials)).find((t) => t.id === id);

beforeAll(async () => {
  await tf.setBackend('cpu');
  h = await openDb();
  await seedTinyModel(h.db, store, 'model-a', 2);
  await seedTinyModel(h.db, store, 'model-b', 3);
  // Real images with more detail than the tiny untrained generators: a compressed PNG would be bigger.
  const items = Array.from({ length: 40 }, (_, i) => {
    const data = new Uint8Array(32 * 32 * 4).map((_, k) =>
      k % 4 === 3 ? 255 : (k * 7919 + i * 104729) % 251,
    );
    return { idx: i, label: i % 10, png: encodePng({ width: 32, height: 32, data }, { level: 0 }) };
  });
  await insertRealSet(h.db, { id: 'test-set', name: 'test', source: 'made in the test' }, items);
});
afterAll(() => h.close());

describe('scoring', () => {
  it('Wilson intervals match hand-computed values', () => {
    // p = 0.3, n = 100, z = 1.96: centre (0.3 + 0.019208) / 1.038416 = 0.307399,
    // half 1.96·√(0.0021 + 0.00009604) / 1.038416 = 0.088451 → [0.21895, 0.39585].
    const [lo, hi] = wilson(30, 100)!;
    expect(lo).toBeCloseTo(0.21895, 4);
    expect(hi).toBeCloseTo(0.39585, 4);
    // Edges stay inside [0, 1] and are not degenerate: 0 of 10 → [0, 0.2775].
    const [lo0, hi0] = wilson(0, 10)!;
    expect(lo0).toBe(0);
    expect(hi0).toBeCloseTo(0.2775, 4);
    expect(wilson(0, 0)).toBeNull();
  });

  it('HYPE∞ is the error rate over real and generated images, each kind weighted equally', () => {
    // 20 of 50 samples judged real (40%), 10 of 50 real images judged generated (20%): (20 + 10) / 100.
    const s = humanScore('m', {
      modelId: 'm',
      judgements: 50,
      fooled: 20,
      realJudgements: 50,
      realErrors: 10,
    });
    expect(s.foolRate).toBe(0.4);
    expect(s.realErrorRate).toBe(0.2);
    expect(s.hype).toBeCloseTo(0.3, 12);
    expect(humanScore('m', undefined)).toMatchObject({
      judgements: 0,
      foolRate: null,
      ci95: null,
      hype: null,
    });
  });

  it('scripted judges: A fooled 30% of the time, B 10%; A ranks above B with intervals holding the true rates', async () => {
    const api = apiWith();
    const judges = await Promise.all(Array.from({ length: 8 }, () => visitorCookie(api, BASE)));
    const seen = { 'model-a': 0, 'model-b': 0, real: 0 };
    let answered = 0;
    for (let round = 0; answered < 400; round++) {
      const cookie = judges[round % judges.length]!;
      const start = await post(api, '/api/judge', {}, cookie);
      expect(start.status).toBe(201);
      const { trialId } = (await start.json()) as { trialId: string };
      // The script peeks at the truth through the database only to play its part.
      const row = await truthOf(trialId);
      let answer: 'real' | 'generated';
      if (row!.kind === 'real')
        answer = seen.real++ % 5 === 0 ? 'generated' : 'real'; // real judged generated 20%
      else {
        const m = row!.modelId as 'model-a' | 'model-b';
        const k = seen[m]++;
        answer = (m === 'model-a' ? k % 10 < 3 : k % 10 < 1) ? 'real' : 'generated';
      }
      const res = await post(api, `/api/judge/${trialId}`, { answer }, cookie);
      expect(res.status).toBe(200);
      answered++;
    }
    // Least-judged first: both models got about the same number of trials.
    expect(Math.abs(seen['model-a'] - seen['model-b'])).toBeLessThanOrEqual(1);
    const board = (await (await api(new Request(`${BASE}/api/leaderboard`))).json()) as {
      items: {
        modelId: string;
        ranked: boolean;
        rank: number;
        foolRate: number;
        ci95: [number, number];
        hype: number;
        realErrorRate: number;
      }[];
    };
    expect(board.items.map((i) => i.modelId)).toEqual(['model-a', 'model-b']);
    const [a, b] = board.items as [(typeof board.items)[0], (typeof board.items)[0]];
    expect(a).toMatchObject({ ranked: true, rank: 1 });
    expect(b).toMatchObject({ ranked: true, rank: 2 });
    expect(a.ci95[0]).toBeLessThan(0.3);
    expect(a.ci95[1]).toBeGreaterThan(0.3);
    expect(b.ci95[0]).toBeLessThan(0.1);
    expect(b.ci95[1]).toBeGreaterThan(0.1);
    expect(a.realErrorRate).toBeCloseTo(0.2, 1);
    const human = (await (await api(new Request(`${BASE}/api/models/model-a/human`))).json()) as {
      judgements: number;
      hype: number;
    };
    expect(human.judgements).toBe(seen['model-a']);
    expect(human.hype).toBeCloseTo(a.hype, 12);
    expect((await api(new Request(`${BASE}/api/models/nope/human`))).status).toBe(404);
  }, 120_000);
});

describe('nothing tells the truth before the answer', () => {
  it('over 50 trials, real and generated images have the same URL shape, headers and PNG layout', async () => {
    const api = apiWith();
    const cookie = await visitorCookie(api, BASE);
    const seenKinds = new Set<string>();
    const shapes = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const start = await post(api, '/api/judge', {}, cookie);
      const body = (await start.json()) as { trialId: string; imageUrl: string };
      expect(Object.keys(body).sort()).toEqual(['imageUrl', 'trialId']);
      expect(body.imageUrl).toBe(`/api/judge/${body.trialId}/image`);
      const img = await api(new Request(BASE + body.imageUrl, { headers: { cookie } }));
      const bytes = new Uint8Array(await img.arrayBuffer());
      const headers: string[] = [];
      img.headers.forEach((v, k) => {
        if (k !== 'date') headers.push(`${k}=${v}`);
      });
      headers.sort();
      // Chunk layout (type and length of every chunk), decoded size and byte count.
      const chunks: string[] = [];
      for (let off = 8; off < bytes.length;) {
        const len = new DataView(bytes.buffer).getUint32(off);
        chunks.push(`${String.fromCharCode(...bytes.subarray(off + 4, off + 8))}:${len}`);
        off += 12 + len;
      }
      const decoded = decodePng(bytes);
      shapes.add(
        JSON.stringify({
          status: img.status,
          headers,
          chunks,
          size: bytes.length,
          w: decoded.width,
          h: decoded.height,
          startKeys: Object.keys(body).length,
        }),
      );
      const row = await truthOf(body.trialId);
      seenKinds.add(row!.kind);
    }
    expect([...seenKinds].sort()).toEqual(['generated', 'real']);
    expect(shapes.size).toBe(1);
  }, 120_000);

  it('answering twice, late, for another visitor or with a bad body: 409, 410, 403, 400; unknown 404', async () => {
    const api = apiWith();
    const me = await visitorCookie(api, BASE);
    const other = await visitorCookie(api, BASE);
    const { trialId } = (await (await post(api, '/api/judge', {}, me)).json()) as {
      trialId: string;
    };
    const codeOf = async (r: Response) => [
      r.status,
      ((await r.json()) as { error?: { code: string } }).error?.code,
    ];
    expect(await codeOf(await post(api, `/api/judge/${trialId}`, { answer: 'maybe' }, me))).toEqual(
      [400, 'invalid'],
    );
    expect(await codeOf(await post(api, `/api/judge/${trialId}`, '{"answer":', me))).toEqual([
      400,
      'bad_json',
    ]);
    expect(
      await codeOf(await post(api, `/api/judge/${trialId}`, { answer: 'real' }, other)),
    ).toEqual([403, 'not_yours']);
    expect(
      (await api(new Request(`${BASE}/api/judge/${trialId}/image`, { headers: { cookie: other } })))
        .status,
    ).toBe(403);
    const first = await post(api, `/api/judge/${trialId}`, { answer: 'real' }, me);
    expect(first.status).toBe(200);
    const verdict = (await first.json()) as { correct: boolean; truth: string; modelId?: string };
    expect(['real', 'generated']).toContain(verdict.truth);
    expect(verdict.correct).toBe(verdict.truth === 'real');
    if (verdict.truth === 'generated') expect(['model-a', 'model-b']).toContain(verdict.modelId);
    expect(
      await codeOf(await post(api, `/api/judge/${trialId}`, { answer: 'generated' }, me)),
    ).toEqual([409, 'answered']);
    expect(
      await codeOf(await post(api, '/api/judge/AAAAAAAAAAAAAAAA', { answer: 'real' }, me)),
    ).toEqual([404, 'not_found']);
    // A trial handed out 11 minutes ago (the API's clock moved back) has expired.
    const past = apiWith({ now: () => Date.now() - 11 * 60_000 });
    const then = await visitorCookie(past, BASE);
    const old = (await (await post(past, '/api/judge', {}, then)).json()) as { trialId: string };
    expect(
      await codeOf(await post(api, `/api/judge/${old.trialId}`, { answer: 'real' }, then)),
    ).toEqual([410, 'expired']);
    // No identity, no trial.
    const anonymous = await api(new Request(`${BASE}/api/judge`, { method: 'POST' }));
    expect(anonymous.status).toBe(403);
  }, 60_000);
});
