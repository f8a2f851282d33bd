/**
 * The gallery API under real Deno against a real PostgreSQL server (TEST_DATABASE_URL, default
 * postgres://postgres@127.0.0.1:5432/test; a throwaway database is created and dropped), plus
 * `deno serve` of the edge entry answering over HTTP. Run: npm test -w @ganstudio/edge.
 */
// Test code may use Node's assert (JSR is not reachable here); the handlers under test may not use Node built-ins.
import { deepStrictEqual as assertEquals, match as assertMatch, ok as assert } from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { seedTinyModel } from '@ganstudio/api/testing';
import { createThrowawayDatabase } from '@ganstudio/db/testing';
import { createMemoryStore } from '@ganstudio/storage/memory';
import { clientIp } from '@ganstudio/api';
import { createEdgeApp, withPeerAddress, type EdgeApp } from './context.ts';

const SERVER = Deno.env.get('TEST_DATABASE_URL') ?? 'postgres://postgres@127.0.0.1:5432/test';
const SECRET = 'edge-test-secret-0123456789';
const BASE = 'http://edge.test';

const throwawayDatabase = () => createThrowawayDatabase(SERVER);

const tinyModel = (app: EdgeApp, id: string) => seedTinyModel(app.db, app.store, id);

const post = (app: { fetch(r: Request): Promise<Response> }, path: string, body: unknown, headers: Record<string, string> = {}, base = BASE) =>
  app.fetch(
    new Request(base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
  );

Deno.test('handler code imports no Node built-ins', () => {
  const root = new URL('../../', import.meta.url);
  const exportsOf = (pkg: string) => JSON.parse(Deno.readTextFileSync(new URL(`packages/${pkg}/package.json`, root))).exports as Record<string, string>;
  const seen = new Set<string>();
  const offenders: string[] = [];
  const visit = (file: URL) => {
    if (seen.has(file.href)) return;
    seen.add(file.href);
    const src = Deno.readTextFileSync(file);
    for (const m of src.matchAll(/^(?:import|export)\s(?!type\b)[^'"]*?from\s+'([^']+)'|^import\s+'([^']+)'/gm)) {
      const spec = (m[1] ?? m[2])!;
      if (spec.startsWith('node:') || /^(fs|path|os|crypto|zlib|child_process|url|util|net|http|worker_threads)(\/|$)/.test(spec)) offenders.push(`${file.pathname}: ${spec}`);
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

Deno.test('the served entry appends the peer to X-Forwarded-For: per-IP limits see it, not a made-up hop', async () => {
  const spoofed = new Request('http://edge.test/api/images', { method: 'POST', headers: { 'x-forwarded-for': '10.9.9.9' }, body: '{"seed":1}' });
  const seen = withPeerAddress(spoofed, '198.51.100.4');
  assertEquals(seen.headers.get('x-forwarded-for'), '10.9.9.9, 198.51.100.4');
  assertEquals(clientIp(seen), '198.51.100.4');
  assertEquals(await seen.text(), '{"seed":1}'); // the body survives the copy
  assertEquals(clientIp(withPeerAddress(new Request('http://edge.test/'), '198.51.100.4')), '198.51.100.4');
});

Deno.test('the API on Deno + PostgreSQL: publish, vote, list, bad input', async (t) => {
  const db = await throwawayDatabase();
  const app = await createEdgeApp({ DATABASE_URL: db.url, VISITOR_SECRET: SECRET }, { store: createMemoryStore() });
  try {
    await tf.setBackend('cpu');
    await tinyModel(app, 'tiny');
    let id = '';

    await t.step('POST /api/images re-renders on the server (pure JS tfjs) and stores the PNG', async () => {
      const t0 = performance.now();
      const res = await post(app, '/api/images', { modelId: 'tiny', seed: 42 });
      const first = performance.now() - t0;
      assertEquals(res.status, 201);
      const body = await res.json();
      id = body.id;
      assertMatch(body.shareUrl, /^http:\/\/edge\.test\/i\/[A-Za-z0-9]{16}$/);
      const png = await app.store.get(`images/${id}.png`);
      assertEquals(Array.from(png!.subarray(1, 4)), [80, 78, 71]);
      const t1 = performance.now();
      assertEquals((await post(app, '/api/images', { modelId: 'tiny', seed: 43 })).status, 201);
      console.log(`render+publish on Deno (tiny ngf=4 generator): first ${first.toFixed(0)} ms (model load), warm ${(performance.now() - t1).toFixed(0)} ms`);
    });

    await t.step('votes: signed cookie identity, changes count once, forged cookies get a new identity', async () => {
      const first = await post(app, `/api/images/${id}/vote`, { value: 1 });
      assertEquals(await first.json(), { score: 1, vote: 1 });
      const cookie = { cookie: first.headers.get('set-cookie')!.split(';')[0]! };
      assertEquals(await (await post(app, `/api/images/${id}/vote`, { value: -1 }, cookie)).json(), { score: -1, vote: -1 });
      const forged = { cookie: cookie.cookie.slice(0, -2) + (cookie.cookie.endsWith('A') ? 'BB' : 'AA') };
      assertEquals(await (await post(app, `/api/images/${id}/vote`, { value: 1 }, forged)).json(), { score: 0, vote: 1 });
    });

    await t.step('GET lists and models; bad input gets 4xx', async () => {
      const list = await (await app.fetch(new Request(`${BASE}/api/images?sort=new&limit=1`))).json();
      assertEquals(list.items.length, 1);
      assert(list.nextCursor);
      const models = await (await app.fetch(new Request(`${BASE}/api/models`))).json();
      assertEquals(models.items[0].id, 'tiny');
      assertEquals((await post(app, '/api/images', '{oops')).status, 400);
      assertEquals((await post(app, '/api/images', { modelId: 'tiny', seed: -5 })).status, 400);
      assertEquals((await post(app, '/api/images', 'x'.repeat(5000))).status, 413);
      assertEquals((await post(app, "/api/images/a'b/vote", { value: 1 })).status, 404);
    });
  } finally {
    await app.close();
    await db.drop();
  }
});

Deno.test('`deno serve` of the edge entry answers publish, vote and list over HTTP', async () => {
  const db = await throwawayDatabase();
  const seed = await createEdgeApp({ DATABASE_URL: db.url, VISITOR_SECRET: SECRET });
  const port = 18_000 + Math.floor(Math.random() * 2000);
  const server = new Deno.Command(Deno.execPath(), {
    args: ['serve', '-A', '--port', String(port), '--host', '127.0.0.1', new URL('./main.ts', import.meta.url).pathname],
    env: { DATABASE_URL: db.url, VISITOR_SECRET: SECRET },
    stdout: 'null',
    stderr: 'piped',
  }).spawn();
  const base = `http://127.0.0.1:${port}`;
  try {
    // The served process keeps blobs in its own memory, out of this test's reach: it is checked on
    // rows written here (list, vote) and on publish's validation; rendering is covered above.
    let up = false;
    for (let i = 0; i < 100 && !up; i++) {
      try {
        up = (await fetch(`${base}/api/models`)).ok;
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    assert(up, 'deno serve did not come up');
    await tinyModel(seed, 'served');
    await seed.db.execute(`insert into images (id, model_id, seed, png_url, png_key) values ('servedimage00001', 'served', 1, '/blobs/x.png', 'x.png')` as never);
    const http = { fetch: (r: Request) => fetch(r) };
    const missing = await post(http, '/api/images', { modelId: 'nope', seed: 1 }, {}, base);
    assertEquals(missing.status, 404);
    await missing.body?.cancel();
    const vote = await post(http, '/api/images/servedimage00001/vote', { value: 1 }, {}, base);
    assertEquals(await vote.json(), { score: 1, vote: 1 });
    const list = await (await fetch(`${base}/api/images?sort=top`)).json();
    assertEquals(list.items[0].id, 'servedimage00001');
    assertEquals(list.items[0].score, 1);
  } finally {
    server.kill('SIGTERM');
    await server.stderr.cancel();
    await server.status;
    await seed.close();
    await db.drop();
  }
});
