/** The "real or generated?" game and its scoring (HYPE∞, Zhou et al. 2019). */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openDb, type DbHandle } from '@ganstudio/db/client';
import { trials } from '@ganstudio/db/schema';
import { decodePng } from '@ganstudio/models/image';
import { createMemoryStore } from '@ganstudio/storage/memory';

import { createApi, createRenderer, networksByModel, pickModel, type ApiDeps } from '../index';
import { NETWORK_WEIGHT_SHARE } from '../policy';
import {
  CIFAR_CLASSES,
  PEER_HEADER,
  seedRealSet,
  seedTinyModel,
  visitorCookie,
  withPeer,
} from '../testing';
import { trialClass } from './judge';
import { realImageAt } from './real-sets';

let h: DbHandle;
const store = createMemoryStore();
const BASE = 'http://gallery.test';
type Api = (r: Request) => Promise<Response>;

const apiWith = (deps: Partial<ApiDeps> = {}): Api =>
  withPeer(
    createApi({
      db: h.db,
      store,
      renderer: createRenderer(store),
      secret: 'judge-test-secret-0123456789',
      identity: { minAgeS: 0 },
      scoreCacheMs: 0,
      ...deps,
    }),
  );
/** A POST from `cookie`'s visitor; `peer` is the connection's address (default 198.51.100.1). */
const post = (api: Api, path: string, body: unknown, cookie: string, peer = '198.51.100.1') =>
  api(
    new Request(BASE + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie, [PEER_HEADER]: peer },
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
  await seedRealSet(h.db, 'test-set', 40);
});
afterAll(() => h.close());

describe('scoring', () => {
  it("tallies group by network, and a model's control is its own contributors' real answers", () => {
    const row = (contributor: string, network: string, subject: string, j: number, w: number) => ({
      contributor,
      network,
      subject,
      judgements: j,
      wrong: w,
    });
    const byModel = networksByModel([
      // Two /64s of one /48 are one unit; their real answers come along.
      row('c1', 'n1', 'model-a', 20, 10),
      row('c2', 'n1', 'model-a', 20, 0),
      row('c1', 'n1', '@real', 20, 5),
      row('c3', 'n2', 'model-a', 4, 1),
      row('c3', 'n2', '@real', 6, 0),
      // Someone who only answered real photographs, all wrong, and judged no model: no model's control.
      row('c9', 'n9', '@real', 20, 20),
      row('c4', 'n4', 'model-b', 3, 3),
    ]);
    expect(byModel.get('model-a')).toEqual([
      { network: 'n1', judgements: 40, fooled: 10, realJudgements: 20, realErrors: 5 },
      { network: 'n2', judgements: 4, fooled: 1, realJudgements: 6, realErrors: 0 },
    ]);
    expect(byModel.get('model-b')).toEqual([
      { network: 'n4', judgements: 3, fooled: 3, realJudgements: 0, realErrors: 0 },
    ]);
  });

  it('the draw favours the least judged model but never gives a new one every trial', () => {
    const models = [{ id: 'old' }, { id: 'new' }];
    const answered = (id: string) => (id === 'old' ? 300 : 0);
    // P(new) = ½·½ + ½·(1/30)/(1/30 + 1/330) = 0.25 + 0.5·0.9167 = 0.7083.
    const grid = Array.from({ length: 10_000 }, (_, i) => pickModel(models, answered, i / 10_000));
    const newShare = grid.filter((m) => m?.id === 'new').length / grid.length;
    expect(newShare).toBeCloseTo(0.7083, 3);
    expect(pickModel([], answered, 0.5)).toBeUndefined();
    // Equal counts: an even draw.
    const even = Array.from({ length: 1000 }, (_, i) => pickModel(models, () => 5, i / 1000));
    expect(even.filter((m) => m?.id === 'new').length).toBe(500);
  });

  it('scripted judges from 24 networks: A fooled 30% of the time, B 10%; A ranks above B with intervals holding the true rates', async () => {
    const api = apiWith();
    const judges = await Promise.all(
      Array.from({ length: 24 }, async (_, i) => {
        const peer = `198.51.100.${10 + i}`;
        return { peer, cookie: await visitorCookie(api, BASE, { [PEER_HEADER]: peer }) };
      }),
    );
    const seen = { 'model-a': 0, 'model-b': 0, real: 0 };
    let answered = 0;
    for (let round = 0; answered < 480; round++) {
      const { cookie, peer } = judges[round % judges.length]!;
      const start = await post(api, '/api/judge', {}, cookie, peer);
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
      const res = await post(api, `/api/judge/${trialId}`, { answer }, cookie, peer);
      expect(res.status).toBe(200);
      answered++;
    }
    // The draw is random but leans to the less judged: neither model is starved.
    expect(Math.abs(seen['model-a'] - seen['model-b'])).toBeLessThan(48);
    const board = (await (await api(new Request(`${BASE}/api/leaderboard`))).json()) as {
      items: {
        modelId: string;
        ranked: boolean;
        rank: number;
        foolRate: number;
        ci95: [number, number];
        hype: number;
        realErrorRate: number;
        networks: number;
        largestShare: number;
      }[];
    };
    expect(board.items.map((i) => i.modelId)).toEqual(['model-a', 'model-b']);
    const [a, b] = board.items as [(typeof board.items)[0], (typeof board.items)[0]];
    expect(a).toMatchObject({ ranked: true, rank: 1, networks: 24 });
    expect(b).toMatchObject({ ranked: true, rank: 2, networks: 24 });
    expect(a.largestShare).toBeLessThanOrEqual(NETWORK_WEIGHT_SHARE + 1e-12);
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

describe('a conditional model in the game', () => {
  it('draws each generated trial in the class of the real image drawn beside it', async () => {
    // seedRealSet labels image i as class i mod 10; the set names CIFAR-10's classes.
    const real = await realImageAt(h.db, 17);
    expect(real?.className).toBe(CIFAR_CLASSES[Number(real?.id.split('-').pop()) % 10]);
    const model = { classes: CIFAR_CLASSES };
    expect(trialClass(model, 'horse', 3)).toBe(7);
    // A real class the model lacks, or an unlabelled image: uniform over the model's classes.
    expect(trialClass({ classes: ['cats', 'dogs'] }, 'horse', 3)).toBe(1);
    expect(trialClass(model, null, 12)).toBe(2);
    expect(trialClass({ classes: null }, 'horse', 3)).toBeNull();
    // Over the whole real set, generated classes then have the real set's class frequencies.
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 40; i++) {
      const r = await realImageAt(h.db, i);
      counts[trialClass(model, r!.className, i)!]!++;
    }
    expect(counts).toEqual(new Array<number>(10).fill(4));
  });
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
      // Answered, so the next start is not refused for too many open trials.
      expect(
        (await post(api, body.imageUrl.replace('/image', ''), { answer: 'real' }, cookie)).status,
      ).toBe(200);
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
