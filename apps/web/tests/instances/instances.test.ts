/**
 * Several instances, one site: two `npm start` (server.mjs) processes and one `deno serve` of
 * apps/edge on one PostgreSQL database and one blob folder. A visitor's cookie from one works on
 * the others, budgets spent on one are spent on all, and an image published through the edge is
 * served by Next.js. Also: production on PostgreSQL without VISITOR_SECRET stops at start with
 * one line. Needs PostgreSQL (TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, it } from 'vitest';

import { createThrowawayDatabase } from '@ganstudio/db/testing';

import { APP, freePort, GALLERY, startServer, userEnv, type Started } from '../helpers';

const root = join(APP, '..', '..');
const denoBin = join(root, 'node_modules', '.bin', 'deno');

const dataDir = mkdtempSync(join(tmpdir(), 'instances-'));
/** The one database of the site: a throwaway one on TEST_DATABASE_URL's server (beforeAll). */
let database: { url: string; drop: () => Promise<void> };
const shared: NodeJS.ProcessEnv = {
  VISITOR_SECRET: 'instances-test-secret-0123456789',
  GANSTUDIO_DATA_DIR: dataDir,
  IDENTITY_MIN_AGE_S: '1',
  // Every budget ×0.1: 3 new identities an hour per address, 12 votes a minute per visitor.
  RATE_LIMIT_SCALE: '0.1',
  BLOB_READ_WRITE_TOKEN: '',
};
const servers: Started[] = [];
let a: Started;
let b: Started;
let edge: Started;
const get = (s: Started, path: string, headers: Record<string, string> = {}) =>
  fetch(`${s.base}${path}`, { headers });
const post = (s: Started, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${s.base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
const cookieOf = (res: Response) => res.headers.get('set-cookie')?.split(';')[0] ?? '';
/** What one test leaves for a later one. */
const state: Record<string, any> = {};

/** Starts server.mjs with `env` and expects it to stop at once with exit 1 and one error line. */
const refusesToStart = async (env: NodeJS.ProcessEnv, message: RegExp) => {
  const port = await freePort();
  const child = spawn(process.execPath, GALLERY(), {
    cwd: APP,
    env: { ...userEnv(), ...shared, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve('timeout');
    }, 60_000);
    child.on('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  assert.equal(code, 1);
  const lines = stderr.trim().split('\n').filter(Boolean);
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0] ?? '', message);
};

beforeAll(async () => {
  database = await createThrowawayDatabase();
  shared['DATABASE_URL'] = database.url;
  // One after the other: the first migrates and registers the bundled run, the rest find them.
  // A listens on IPv6 too, so one test can reach it from a second address (::1).
  servers.push(await startServer('next A', process.execPath, GALLERY, { ...shared, HOST: '::' }));
  servers.push(await startServer('next B', process.execPath, GALLERY, shared));
  // Exposed directly, as all three are here, each counts the socket's address (127.0.0.1).
  servers.push(
    await startServer(
      'deno edge',
      denoBin,
      (p) => ['serve', '-A', '--port', String(p), '--host', '127.0.0.1', 'main.ts'],
      shared,
      join(root, 'apps', 'edge'),
    ),
  );
  [a, b, edge] = servers as [Started, Started, Started];
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await database?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('several instances, one site', () => {
  it('new identities are one budget for the site: 3 per address across A, B and the edge, whatever headers it forges', async () => {
    const statuses = [];
    for (const [i, s] of [a, b, edge, a, b, edge, a, b, edge].entries()) {
      // A new made-up address every time, in every header a client can write, or an empty one.
      const forged =
        i % 2
          ? {
              'x-forwarded-for': `203.0.113.${i}`,
              'x-real-ip': `198.51.100.${i}`,
              'x-ganstudio-peer': `192.0.2.${i}`,
            }
          : ({ 'x-forwarded-for': '', 'x-real-ip': `[2001:db8::${i}]:${1000 + i}` } as Record<
              string,
              string
            >);
      const res = await get(s, '/api/visitor', forged);
      statuses.push(res.status);
      state.cookie ??= cookieOf(res);
      await res.body?.cancel();
    }
    assert.deepEqual(statuses, [200, 200, 200, 429, 429, 429, 429, 429, 429]);
    // The socket's address is what counts: the same server reached from ::1 is another address
    // with a budget of its own (were the address unknown, it would share the spent one).
    const v6 = await fetch(`http://[::1]:${new URL(a.base).port}/api/visitor`);
    await v6.body?.cancel();
    assert.equal(v6.status, 200);
  });

  it('malformed paths and methods are a 4xx, never a 500', async () => {
    for (const s of servers) {
      for (const path of ['/i/%E0%A4%A', '/models/%E0%A4%A', '/runs/%E0%A4%A', '/blobs/%E0%A4%A']) {
        const res = await get(s, path);
        await res.body?.cancel();
        assert.ok(res.status >= 400 && res.status < 500, `${s.name} ${path}: ${res.status}`);
      }
      // fetch refuses to send TRACE, so it goes out through node:http.
      const trace = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(`${s.base}/`, { method: 'TRACE' }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
      assert.ok(trace >= 400 && trace < 500, `${s.name} TRACE: ${trace}`);
    }
  });

  it('a cookie issued by one instance is the same visitor on the others', async () => {
    await new Promise((r) => setTimeout(r, 1100)); // past IDENTITY_MIN_AGE_S
    for (const s of [a, b, edge]) {
      const res = await get(s, '/api/visitor', { cookie: state.cookie });
      assert.equal((await res.json()).visitor, 'known', s.name);
      assert.equal(res.headers.get('set-cookie'), null, s.name);
    }
  });

  it('published through the edge, the image is served by Next.js from the shared store', async () => {
    const models = await (await get(a, '/api/models')).json();
    const model = models.items.find((m: { isDefault: boolean }) => m.isDefault);
    const res = await post(
      edge,
      '/api/images',
      { modelId: model.id, seed: 4242 },
      { cookie: state.cookie },
    );
    assert.equal(res.status, 201);
    const { id, url } = await res.json();
    state.id = id;
    const png = await get(b, url);
    assert.equal(png.status, 200);
    assert.equal(png.headers.get('content-type'), 'image/png');
    assert.equal((await get(a, `/api/images/${id}`)).status, 200);
  });

  it("one visitor's votes: each instance sees the others' vote, and one budget of 12 a minute", async () => {
    const statuses = [];
    let last;
    for (let i = 0; i < 14; i++) {
      const s = servers[i % 3]!;
      const res = await post(
        s,
        `/api/images/${state.id}/vote`,
        { value: i % 2 ? -1 : 1 },
        { cookie: state.cookie },
      );
      statuses.push(res.status);
      if (res.ok) last = await res.json();
      else await res.body?.cancel();
    }
    assert.deepEqual(statuses, [...Array(12).fill(200), 429, 429]);
    // Changes from three instances counted as one visitor's one vote.
    assert.deepEqual(last, { score: -1, vote: -1 });
    for (const s of servers)
      assert.equal((await (await get(s, `/api/images/${state.id}`)).json()).score, -1, s.name);
  });

  it('a script that knows every truth, on all three instances: its trial budget ends it, and no rank', async () => {
    const truth = new pg.Client({ connectionString: database.url });
    await truth.connect();
    const statuses = [];
    try {
      for (let i = 0; i < 32; i++) {
        const s = servers[i % 3]!;
        const started = await post(s, '/api/judge', {}, { cookie: state.cookie });
        statuses.push(started.status);
        if (started.status !== 201) {
          await started.body?.cancel();
          continue;
        }
        const { trialId } = await started.json();
        // The script peeks at the truth (through the database, playing the part of the public real set).
        const { rows } = await truth.query('select kind from trials where id = $1', [trialId]);
        const answer = rows[0].kind === 'real' ? 'generated' : 'real';
        const res = await post(s, `/api/judge/${trialId}`, { answer }, { cookie: state.cookie });
        assert.equal(res.status, 200);
        await res.body?.cancel();
      }
    } finally {
      await truth.end();
    }
    // At scale 0.1: 30 trials an hour per visitor across the site, then 429.
    assert.deepEqual(statuses, [...Array(30).fill(201), 429, 429]);
    const board = await (await get(edge, '/api/leaderboard')).json();
    for (const row of board.items) {
      assert.ok(row.judgements <= 20, `${row.modelId}: ${row.judgements}`);
      assert.equal(row.ranked, false);
      assert.ok(row.networks <= 1);
    }
  });

  it("2,000 connections that ask for a model's weights and never read keep the server under 200 MB more", async () => {
    const rss = () => {
      const line = readFileSync(`/proc/${a.child.pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
      return Number(line?.[1] ?? NaN) * 1024;
    };
    const { items } = await (await get(a, '/api/models')).json();
    const weights = new URL(items[0].modelJsonUrl, a.base).pathname.replace(
      /model\.json$/,
      'weights.bin',
    );
    const { port } = new URL(a.base);
    const before = rss();
    const sockets = [];
    for (let i = 0; i < 2000; i++) {
      const socket = connect({ host: '127.0.0.1', port: Number(port) });
      socket.on('error', () => {}); // refused past the cap, or closed: either is fine here
      socket.write(`GET ${weights} HTTP/1.1\r\nHost: x\r\n\r\n`);
      socket.pause(); // never read
      sockets.push(socket);
    }
    await new Promise((r) => setTimeout(r, 5_000));
    const grown = rss() - before;
    for (const s of sockets) s.destroy();
    console.log(`    (server RSS +${(grown / 2 ** 20).toFixed(0)} MB with 2,000 idle readers)`);
    assert.ok(grown < 200 * 2 ** 20, `RSS grew by ${(grown / 2 ** 20).toFixed(0)} MB`);
    // Still serving.
    assert.equal((await get(a, '/api/models')).status, 200);
  });

  it('production on PostgreSQL without VISITOR_SECRET stops at start with one line', () =>
    refusesToStart(
      { VISITOR_SECRET: '' },
      /^error: VISITOR_SECRET \(16\+ characters\) is required in production with DATABASE_URL/,
    ));

  it('VERCEL=1 (an env copied from a Vercel project) stops npm start: a client would pick its own address', () =>
    refusesToStart(
      { VERCEL: '1' },
      /^error: TRUSTED_PROXY_HOPS=vercel \(or VERCEL=1\) is for Vercel's runtime/,
    ));
});
