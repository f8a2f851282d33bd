/**
 * The gallery API under real Deno against a real PostgreSQL server (TEST_DATABASE_URL, default
 * postgres://postgres@127.0.0.1:5432/test; a throwaway database is created and dropped), plus
 * `deno serve` of the edge entry answering over HTTP. Run: npm test -w @ganstudio/edge.
 */
// Test code may use Node's assert (JSR is not reachable here); the handlers under test may not use Node built-ins.
import {
  ok as assert,
  deepStrictEqual as assertEquals,
  match as assertMatch,
} from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';

import { clientAddress } from '@ganstudio/api';
import { insertRealSet } from '@ganstudio/api/features/real-sets';
import { seedTinyModel, visitorCookie } from '@ganstudio/api/testing';
import { createThrowawayDatabase } from '@ganstudio/db/testing';
import { encodePng } from '@ganstudio/models/image';
import { createMemoryStore } from '@ganstudio/storage/memory';

import { createEdgeApp, type EdgeApp } from './context.ts';

const SERVER = Deno.env.get('TEST_DATABASE_URL') ?? 'postgres://postgres@127.0.0.1:5432/test';
const SECRET = 'edge-test-secret-0123456789';
const BASE = 'http://edge.test';

const throwawayDatabase = () => createThrowawayDatabase(SERVER);

const tinyModel = (app: EdgeApp, id: string) => seedTinyModel(app.db, app.store, id);

/** Test apps count identities at once: identity age is covered by packages/api's abuse tests. */
const edgeEnv = (url: string) => ({
  DATABASE_URL: url,
  VISITOR_SECRET: SECRET,
  IDENTITY_MIN_AGE_S: '0',
});

const post = (
  app: { fetch(r: Request): Promise<Response> },
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
  base = BASE,
) =>
  app.fetch(
    new Request(base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
  );

Deno.test('handler code imports no Node built-ins', () => {
  const root = new URL('../../', import.meta.url);
  const exportsOf = (pkg: string) =>
    JSON.parse(Deno.readTextFileSync(new URL(`packages/${pkg}/package.json`, root)))
      .exports as Record<string, string>;
  const seen = new Set<string>();
  const offenders: string[] = [];
  const visit = (file: URL) => {
    if (seen.has(file.href)) return;
    seen.add(file.href);
    const src = Deno.readTextFileSync(file);
    for (const m of src.matchAll(
      /^(?:import|export)\s(?!type\b)[^'"]*?from\s+'([^']+)'|^import\s+'([^']+)'/gm,
    )) {
      const spec = (m[1] ?? m[2])!;
      if (
        spec.startsWith('node:') ||
        /^(fs|path|os|crypto|zlib|child_process|url|util|net|http|worker_threads)(\/|$)/.test(spec)
      )
        offenders.push(`${file.pathname}: ${spec}`);
      else if (spec.startsWith('.')) {
        const base = new URL(spec, file);
        visit(/\.tsx?$/.test(base.pathname) ? base : new URL(base.href + '.ts'));
      } else if (spec.startsWith('@ganstudio/')) {
        const [, pkg, sub] = /^@ganstudio\/([^/]+)(\/.*)?$/.exec(spec)!;
        const target = exportsOf(pkg!)[sub ? `.${sub}` : '.']!;
        visit(new URL(`packages/${pkg}/${target}`, root));
      }
    }
  };
  visit(new URL('packages/api/src/index.ts', root));
  assert(seen.size > 8, `walked ${seen.size} modules`);
  assertEquals(offenders, []);
});

Deno.test(
  "the served entry's peer address counts, never a forwarding header the client wrote",
  () => {
    const spoofed = new Request('http://edge.test/api/images', {
      method: 'POST',
      headers: { 'x-forwarded-for': '10.9.9.9', 'x-real-ip': '10.8.8.8' },
    });
    assertEquals(clientAddress(spoofed, '198.51.100.4'), '198.51.100.4');
    assertEquals(clientAddress(spoofed, '[2001:db8::7]:4431'), '2001:db8:0:0:0:0:0:7');
    // Behind one proxy of yours, the hop it appended (here the client's) counts.
    assertEquals(clientAddress(spoofed, '192.0.2.1', { hops: 1 }), '10.9.9.9');
  },
);

Deno.test('the API on Deno + PostgreSQL: publish, vote, list, bad input', async (t) => {
  const db = await throwawayDatabase();
  const app = await createEdgeApp(edgeEnv(db.url), { store: createMemoryStore() });
  try {
    await tf.setBackend('cpu');
    await tinyModel(app, 'tiny');
    let id = '';
    const me = { cookie: await visitorCookie(app.fetch, BASE) };

    await t.step(
      'POST /api/images re-renders on the server (pure JS tfjs) and stores the PNG',
      async () => {
        const t0 = performance.now();
        const res = await post(app, '/api/images', { modelId: 'tiny', seed: 42 }, me);
        const first = performance.now() - t0;
        assertEquals(res.status, 201);
        const body = await res.json();
        id = body.id;
        assertMatch(body.shareUrl, /^http:\/\/edge\.test\/i\/[A-Za-z0-9]{16}$/);
        const png = await app.store.get(`images/${id}.png`);
        assertEquals(Array.from(png!.subarray(1, 4)), [80, 78, 71]);
        const t1 = performance.now();
        assertEquals(
          (await post(app, '/api/images', { modelId: 'tiny', seed: 43 }, me)).status,
          201,
        );
        console.log(
          `render+publish on Deno (tiny ngf=4 generator): first ${first.toFixed(0)} ms (model load), warm ${(performance.now() - t1).toFixed(0)} ms`,
        );
      },
    );

    await t.step(
      'votes: signed cookie identity, changes count once, forged cookies are nobody',
      async () => {
        assertEquals(await (await post(app, `/api/images/${id}/vote`, { value: 1 }, me)).json(), {
          score: 1,
          vote: 1,
        });
        assertEquals(await (await post(app, `/api/images/${id}/vote`, { value: -1 }, me)).json(), {
          score: -1,
          vote: -1,
        });
        const forged = { cookie: me.cookie.slice(0, -2) + (me.cookie.endsWith('A') ? 'BB' : 'AA') };
        const refused = await post(app, `/api/images/${id}/vote`, { value: 1 }, forged);
        assertEquals(refused.status, 403);
        assertEquals((await refused.json()).error.code, 'no_identity');
        assertEquals(
          (await (await app.fetch(new Request(`${BASE}/api/images/${id}`))).json()).score,
          -1,
        );
      },
    );

    await t.step(
      'judge: a trial, its opaque image, one answer (409 after), on Deno + PostgreSQL',
      async () => {
        const png = encodePng(
          { width: 32, height: 32, data: new Uint8Array(4096).fill(200) },
          { level: 0 },
        );
        await insertRealSet(app.db, { id: 'edge-set', name: 'edge', source: 'test' }, [
          { idx: 0, label: 0, png },
        ]);
        const started = await post(app, '/api/judge', {}, me);
        assertEquals(started.status, 201);
        const { trialId, imageUrl } = await started.json();
        assertEquals(imageUrl, `/api/judge/${trialId}/image`);
        const image = await app.fetch(new Request(BASE + imageUrl, { headers: me }));
        assertEquals(image.headers.get('content-type'), 'image/png');
        assertEquals((await image.arrayBuffer()).byteLength, png.byteLength); // level 0: one size for all
        const verdict = await (
          await post(app, `/api/judge/${trialId}`, { answer: 'real' }, me)
        ).json();
        assert(verdict.truth === 'real' || verdict.truth === 'generated');
        assertEquals(
          (await post(app, `/api/judge/${trialId}`, { answer: 'real' }, me)).status,
          409,
        );
        const board = await (await app.fetch(new Request(`${BASE}/api/leaderboard`))).json();
        assertEquals(board.items[0].modelId, 'tiny');
      },
    );

    await t.step('GET lists and models; bad input gets 4xx', async () => {
      const list = await (
        await app.fetch(new Request(`${BASE}/api/images?sort=new&limit=1`))
      ).json();
      assertEquals(list.items.length, 1);
      assert(list.nextCursor);
      const models = await (await app.fetch(new Request(`${BASE}/api/models`))).json();
      assertEquals(models.items[0].id, 'tiny');
      assertEquals((await post(app, '/api/images', '{oops', me)).status, 400);
      assertEquals((await post(app, '/api/images', { modelId: 'tiny', seed: -5 }, me)).status, 400);
      assertEquals((await post(app, '/api/images', 'x'.repeat(5000), me)).status, 413);
      assertEquals((await post(app, "/api/images/a'b/vote", { value: 1 }, me)).status, 404);
    });
  } finally {
    await app.close();
    await db.drop();
  }
});

/** `deno serve` of main.ts on a port of its own, with `env`; resolves once it answers. */
async function served(env: Record<string, string>) {
  const port = 18_000 + Math.floor(Math.random() * 2000);
  const server = new Deno.Command(Deno.execPath(), {
    args: [
      'serve',
      '-A',
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
      new URL('./main.ts', import.meta.url).pathname,
    ],
    env,
    stdout: 'null',
    stderr: 'piped',
  }).spawn();
  const base = `http://127.0.0.1:${port}`;
  let up = false;
  for (let i = 0; i < 150 && !up; i++) {
    try {
      up = (await fetch(`${base}/api/models`)).ok;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const stop = async () => {
    server.kill('SIGTERM');
    await server.stderr.cancel();
    await server.status;
  };
  if (!up) {
    await stop();
    throw new Error('deno serve did not come up');
  }
  return { base, stop };
}

Deno.test(
  '`deno serve` as a newcomer runs it: bundled model registered, publish → PNG → share page → card → vote over HTTP',
  async () => {
    const db = await throwawayDatabase();
    const dataDir = await Deno.makeTempDir({ prefix: 'edge-data-' });
    const { base, stop } = await served({
      DATABASE_URL: db.url,
      GANSTUDIO_DATA_DIR: dataDir,
      IDENTITY_MIN_AGE_S: '1',
    });
    try {
      const models = await (await fetch(`${base}/api/models`)).json();
      const model = models.items.find((m: { isDefault: boolean }) => m.isDefault);
      assertMatch(model.id, /^dcgan-cifar10-e\d+$/);
      // An identity from a page view, old enough after a second; the secret was generated into the data folder.
      const issued = await fetch(`${base}/api/visitor`);
      const cookie = { cookie: issued.headers.get('set-cookie')!.split(';')[0]! };
      await issued.body?.cancel();
      assert((await Deno.readTextFile(`${dataDir}/visitor-secret`)).length >= 32);
      await new Promise((r) => setTimeout(r, 1100));
      const http = { fetch: (r: Request) => fetch(r) };
      const published = await post(
        http,
        '/api/images',
        { modelId: model.id, seed: 2026 },
        cookie,
        base,
      );
      assertEquals(published.status, 201);
      const { id, url, shareUrl } = await published.json();
      assertEquals(shareUrl, `${base}/i/${id}`);
      // The PNG, re-rendered on the server by the bundled generator, is served from the folder store.
      const png = new Uint8Array(await (await fetch(new URL(url, base))).arrayBuffer());
      assertEquals(Array.from(png.subarray(1, 4)), [80, 78, 71]);
      assertEquals(new DataView(png.buffer).getUint32(16), 32);
      assert((await Deno.stat(`${dataDir}/blobs/images/${id}.png`)).isFile);
      // The share link unfurls: Open Graph tags pointing at a stored 1200×630 card.
      const page = await (await fetch(shareUrl)).text();
      assertMatch(
        page,
        new RegExp(`<meta property="og:image" content="${base}/i/${id}/og\\.png">`),
      );
      assertMatch(page, /twitter:card" content="summary_large_image"/);
      const card = new Uint8Array(await (await fetch(`${base}/i/${id}/og.png`)).arrayBuffer());
      assertEquals(
        [new DataView(card.buffer).getUint32(16), new DataView(card.buffer).getUint32(20)],
        [1200, 630],
      );
      assert((await Deno.stat(`${dataDir}/blobs/cards/${id}.png`)).isFile);
      const vote = await post(http, `/api/images/${id}/vote`, { value: 1 }, cookie, base);
      assertEquals(await vote.json(), { score: 1, vote: 1 });
      const noCookie = await post(http, `/api/images/${id}/vote`, { value: 1 }, {}, base);
      assertEquals(noCookie.status, 403);
      await noCookie.body?.cancel();
      assertEquals((await (await fetch(`${base}/api/images/${id}`)).json()).score, 1);
    } finally {
      await stop();
      await db.drop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
);

Deno.test(
  'a missing DATABASE_URL or a bad setting stops `deno serve` with one line and exit 1',
  async () => {
    for (const [env, message] of [
      [{}, /^error: DATABASE_URL is required/],
      [
        { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test', TRUSTED_PROXY_HOPS: 'two' },
        /^error: TRUSTED_PROXY_HOPS must be 0–10/,
      ],
      [
        { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test', DENO_DEPLOYMENT_ID: 'x' },
        /^error: VISITOR_SECRET \(16\+ characters\) is required in production with DATABASE_URL/,
      ],
    ] as const) {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ['serve', '-A', '--port', '0', new URL('./main.ts', import.meta.url).pathname],
        env: { ...env, GANSTUDIO_DATA_DIR: await Deno.makeTempDir() },
        clearEnv: true,
        stdout: 'null',
        stderr: 'piped',
      }).output();
      const lines = new TextDecoder().decode(out.stderr).trim().split('\n');
      assertEquals(out.code, 1);
      assertEquals(lines.length, 1, lines.join('\n'));
      assertMatch(lines[0]!, message);
    }
  },
);
