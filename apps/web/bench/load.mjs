// Load benchmark of the gallery API: concurrent votes from many distinct visitors —
// repeated and conflicting votes included — then list and publish, against the gallery (server.mjs) on
// localhost. Afterwards the database must equal exactly what the accepted responses imply:
// each connection is one visitor sending in order, so the last accepted response of each
// (visitor, image) pair is that pair's final vote; every score must equal the sum of its votes.
// Visitors get their identities as browsers do (GET /api/visitor, then the identity's minimum age),
// each from its own address as a trusted proxy reports it (X-Forwarded-For), so the per-address
// identity rules apply to the bench as to real traffic; on PostgreSQL the budgets are the
// shared ones (one rate_take round trip per vote).
//
//   npm run build -w @ganstudio/web
//   node apps/web/bench/load.mjs                       # PGlite (embedded default)
//   node apps/web/bench/load.mjs --postgres postgres://postgres@127.0.0.1:5432/test
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';

import { judgeRounds, waitForGallery } from './gallery-runs.mjs';

const fail = (message) => {
  console.error(`error: ${message}`);
  process.exit(2);
};
let opts;
try {
  ({ values: opts } = parseArgs({
    options: {
      postgres: { type: 'string' },
      port: { type: 'string', default: '3311' },
      // Comma-separated: one vote run per count, in this order, against the same server.
      connections: { type: 'string', default: '10,16,50' },
      visitors: { type: 'string', default: '1000' },
      seconds: { type: 'string', default: '15' },
      // An unreported vote run first, so the sweep's first row is not measured on a cold JIT.
      warmup: { type: 'string', default: '10' },
      images: { type: 'string', default: '20' },
      // Then votes on this many connections while --mixed-publishers publish alongside (0: skip):
      // what a publish's server render costs the votes waiting behind it.
      mixed: { type: 'string', default: '16' },
      'mixed-publishers': { type: 'string', default: '2' },
      // Then a burst on one image: this many visitors at once, each voting --hot-votes times in a
      // row (0: skip). Served in arrival order, the last vote waits about voters / throughput.
      hot: { type: 'string', default: '200' },
      'hot-votes': { type: 'string', default: '5' },
      // Extra flags for the server's node, e.g. --node-arg=--cpu-prof (profiles land in apps/web).
      'node-arg': { type: 'string', multiple: true, default: [] },
    },
  }));
} catch (err) {
  fail(err.message.split('\n')[0]);
}
const app = join(dirname(fileURLToPath(import.meta.url)), '..');
const base = `http://127.0.0.1:${opts.port}`;
/** Every count flag is a whole number ≥ its minimum; --connections is a list of them. */
const wholeAtLeast = (flag, text, min) => {
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < min)
    fail(`--${flag} must be a whole number ≥ ${min}, got ${text}`);
  return n;
};
const SWEEP = opts.connections.split(',').map((c) => wholeAtLeast('connections', c, 1));
for (const flag of ['visitors', 'seconds', 'images', 'port', 'mixed-publishers', 'hot-votes'])
  wholeAtLeast(flag, opts[flag], 1);
for (const flag of ['warmup', 'mixed', 'hot']) wholeAtLeast(flag, opts[flag], 0);
const VISITORS = Math.max(Number(opts.visitors), ...SWEEP, Number(opts.hot));
const IMAGES = Number(opts.images);
const IDENTITY_MIN_AGE_S = 5; // the gallery's default
/** A hot image's p99 may be this many times the arrival-order wait (voters / throughput). */
const HOT_P99_BOUND = 2;

let dbUrl = '';
let dropDb = async () => {};
if (opts.postgres) {
  const name = `ganstudio_load_${Date.now()}`;
  const admin = new pg.Client({ connectionString: opts.postgres });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const u = new URL(opts.postgres);
  u.pathname = `/${name}`;
  dbUrl = u.toString();
  dropDb = async () => {
    const c = new pg.Client({ connectionString: opts.postgres });
    await c.connect();
    await c.query(`drop database if exists ${name} with (force)`);
    await c.end();
  };
}

// The gallery as `npm start` runs it (server.mjs), told that one proxy sits in front, which is how
// each bench visitor gets an address of its own (X-Forwarded-For) from one host.
const server = spawn(process.execPath, [...opts['node-arg'], 'server.mjs'], {
  cwd: app,
  env: {
    ...process.env,
    PORT: opts.port,
    HOST: '127.0.0.1',
    TRUSTED_PROXY_HOPS: '1',
    GANSTUDIO_DATA_DIR: mkdtempSync(join(tmpdir(), 'load-')),
    DATABASE_URL: dbUrl,
    RATE_LIMIT_SCALE: '10000',
    IDENTITY_MIN_AGE_S: String(IDENTITY_MIN_AGE_S),
    VISITOR_SECRET: 'load-bench-secret-0123456789',
    NODE_ENV: 'production',
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});

const json = (r) => r.json();
try {
  await waitForGallery(base);
  const { items: models } = await fetch(`${base}/api/models`).then(json);
  const modelId = models[0].id;
  // Signed visitor cookies, one address each (10.0.0.0/8), later bound to one connection (visitor v
  // to connection v mod C) so that each visitor's requests are sent and answered in order.
  const visitors = [];
  for (let v = 0; v < VISITORS; v++) {
    const ip = `10.${(v >> 16) & 255}.${(v >> 8) & 255}.${v & 255}`;
    const res = await fetch(`${base}/api/visitor`, { headers: { 'x-forwarded-for': ip } });
    const cookie = res.headers.get('set-cookie')?.split(';')[0];
    if (!cookie) fail(`GET /api/visitor gave ${res.status} and no cookie`);
    visitors.push({ cookie, ip });
  }
  const cookies = visitors.map((v) => v.cookie);
  const asVisitor = (v) => ({ cookie: v.cookie, 'x-forwarded-for': v.ip });
  await new Promise((r) => setTimeout(r, (IDENTITY_MIN_AGE_S + 1) * 1000)); // identities count from then
  const ids = [];
  for (let s = 0; s < IMAGES; s++) {
    const r = await fetch(`${base}/api/images`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...asVisitor(visitors[s % VISITORS]) },
      body: JSON.stringify({ modelId, seed: s }),
    }).then(json);
    if (!r.id) fail(`publish refused: ${JSON.stringify(r)}`);
    ids.push(r.id);
  }

  const accepted = new Map(); // `${visitor}|${image}` → last accepted vote value
  // A request still in flight when a run stops is aborted by autocannon but may still commit: for
  // that pair either the accepted or the pending value is right, until a later answer settles it.
  const pending = new Map(); // visitor → {image, value}; one in flight per visitor
  const unsettled = new Map(); // `${visitor}|${image}` → value that may or may not have committed
  const results = { votes: [] };

  // One closed-loop run of `connections` connections, each one a rotation of visitors (visitor v
  // on connection v mod connections) so that each visitor's requests are sent and answered in order.
  let publishSeed = 100_000; // new seeds only: each publish renders
  const publishRun = (connections, seconds) =>
    autocannon({
      url: base,
      connections,
      duration: seconds,
      requests: [
        {
          method: 'POST',
          setupRequest: (req) => ({
            ...req,
            path: '/api/images',
            headers: {
              'content-type': 'application/json',
              ...asVisitor(visitors[publishSeed % VISITORS]),
            },
            body: JSON.stringify({ modelId, seed: publishSeed++ }),
          }),
        },
      ],
    });

  async function voteRun(connections, seconds = Number(opts.seconds)) {
    let cursor = 0;
    const rotation = [];
    const run = await autocannon({
      url: base,
      connections,
      duration: seconds,
      // autocannon resets a connection's context each time its request list loops, so the
      // connection's number goes into the context it resets to and its visitor rotation lives here.
      setupClient: (client) => {
        const conn = cursor++;
        rotation[conn] = { next: 0, visitors: visitors.filter((_, v) => v % connections === conn) };
        client.requestIterator.initialContext = { conn };
        client.requestIterator.resetContext();
        client.requestIterator.rebuildRequest(); // the first request was built before this ran, without a visitor
      },
      requests: [
        {
          method: 'POST',
          setupRequest: (req, context) => {
            const r = rotation[context.conn];
            if (!r) return req; // built once before setupClient; rebuilt there
            const visitor = r.visitors[r.next++ % r.visitors.length];
            context.visitor = visitor.cookie;
            // Few images, many visitors: the same pairs are voted on again and again, with changing values.
            context.image = ids[Math.floor(Math.random() * ids.length)];
            context.value = [1, -1, 0, 1][Math.floor(Math.random() * 4)];
            pending.set(context.visitor, { image: context.image, value: context.value });
            return {
              ...req,
              path: `/api/images/${context.image}/vote`,
              headers: { 'content-type': 'application/json', ...asVisitor(visitor) },
              body: JSON.stringify({ value: context.value }),
            };
          },
          onResponse: (status, body, context) => {
            pending.delete(context.visitor);
            const pair = `${context.visitor}|${context.image}`;
            if (status === 200) {
              accepted.set(pair, JSON.parse(body).vote);
              unsettled.delete(pair);
            }
          },
        },
      ],
    });
    await new Promise((r) => setTimeout(r, 1000)); // let aborted in-flight requests finish
    for (const [visitor, { image, value }] of pending) unsettled.set(`${visitor}|${image}`, value);
    pending.clear();
    return { connections, run };
  }
  if (Number(opts.warmup) > 0) await voteRun(SWEEP[0], Number(opts.warmup));
  for (const connections of SWEEP) results.votes.push(await voteRun(connections));
  if (Number(opts.mixed) > 0) {
    const [votes, publishes] = await Promise.all([
      voteRun(Number(opts.mixed)),
      publishRun(Number(opts['mixed-publishers']), Number(opts.seconds)),
    ]);
    results.mixed = { votes, publishes };
  }
  if (Number(opts.hot) > 0) {
    // Each voter on a keep-alive connection of its own, opened before the burst (a browser that
    // loaded the page has one): the burst then measures the votes, not 200 TCP accepts queued
    // behind a busy event loop, which autocannon would count into the first votes' latency.
    const voters = visitors.slice(0, Number(opts.hot));
    const image = ids[0];
    const agents = voters.map(() => new http.Agent({ keepAlive: true, maxSockets: 1 }));
    const send = (i, method, path, body) =>
      new Promise((resolve, reject) => {
        const req = http.request(
          `${base}${path}`,
          {
            method,
            agent: agents[i],
            headers: { 'content-type': 'application/json', ...asVisitor(voters[i]) },
          },
          (res) => {
            let text = '';
            res.on('data', (d) => (text += d));
            res.on('end', () => resolve({ status: res.statusCode, text }));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    await Promise.all(voters.map((_, i) => send(i, 'GET', `/api/images/${image}`)));
    const latencies = [];
    let failed = 0;
    const started = performance.now();
    await Promise.all(
      voters.map(async (v, i) => {
        for (let n = 0; n < Number(opts['hot-votes']); n++) {
          const value = n % 2 ? -1 : 1; // every vote flips the voter's last one
          const t = performance.now();
          const r = await send(i, 'POST', `/api/images/${image}/vote`, JSON.stringify({ value }));
          latencies.push(performance.now() - t);
          if (r.status === 200) accepted.set(`${v.cookie}|${image}`, JSON.parse(r.text).vote);
          else failed++;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    agents.forEach((a) => a.destroy());
    latencies.sort((a, b) => a - b);
    const pct = (q) =>
      Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]);
    results.hot = {
      voters: voters.length,
      perSecond: latencies.length / seconds,
      p50: pct(0.5),
      p99: pct(0.99),
      max: Math.round(latencies.at(-1)),
      failed,
    };
  }
  // Ground truth from the database, through the API: every visitor's own votes (myVote), paging
  // through the newest-first list (the mixed phase published more images after the voted ones).
  let mismatches = 0;
  const sums = new Map(ids.map((id) => [id, 0]));
  const myVotes = async (cookie) => {
    const found = new Map();
    let cursor;
    do {
      const query = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const page = await fetch(`${base}/api/images?sort=new&limit=100${query}`, {
        headers: { cookie },
      }).then(json);
      for (const item of page.items) if (sums.has(item.id)) found.set(item.id, item.myVote);
      cursor = page.nextCursor;
    } while (cursor && found.size < ids.length);
    return found;
  };
  for (const cookie of cookies) {
    const found = await myVotes(cookie);
    for (const id of ids) {
      const mine = found.get(id); // undefined: the image is missing, which counts as a difference
      sums.set(id, sums.get(id) + (mine ?? 0));
      const expected = accepted.get(`${cookie}|${id}`) ?? 0;
      const maybe = unsettled.get(`${cookie}|${id}`);
      const ok =
        mine !== undefined && (mine === expected || (maybe !== undefined && mine === maybe));
      if (!ok) {
        mismatches++;
        if (process.env.DEBUG)
          console.error('mismatch', cookie.slice(11, 19), id, { mine, expected, maybe });
      }
    }
  }
  for (const id of ids) {
    const img = await fetch(`${base}/api/images/${id}`).then(json);
    if (img.score !== sums.get(id)) {
      mismatches++; // score = Σ votes, always
      if (process.env.DEBUG) console.error('score mismatch', id, img.score, sums.get(id));
    }
  }
  results.list = await autocannon({
    url: `${base}/api/images?sort=top&limit=24`,
    connections: 20,
    duration: 10,
  });
  results.publish = await publishRun(4, 10);
  results.judge = await judgeRounds(base, visitors.map(asVisitor));

  const row = (name, connections, r) =>
    `| ${name} | ${connections} | ${r.requests.average.toFixed(0)} | ${r.latency.p50} | ${r.latency.p99} | ${r.non2xx} | ${r.errors} |`;
  console.log(
    `\n${opts.postgres ? 'PostgreSQL (node-postgres)' : 'PGlite (embedded)'} · ${VISITORS} visitors · ${ids.length} images · ${opts.seconds} s per vote run`,
  );
  console.log(
    '| endpoint | connections | requests/s | p50 ms | p99 ms | non-2xx | errors |\n| --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const { connections, run } of results.votes)
    console.log(row('POST /api/images/:id/vote', connections, run));
  if (results.mixed) {
    const p = opts['mixed-publishers'];
    console.log(
      row(
        `POST /api/images/:id/vote, ${p} publishing alongside`,
        results.mixed.votes.connections,
        results.mixed.votes.run,
      ),
    );
    console.log(row('POST /api/images alongside those votes', p, results.mixed.publishes));
  }
  if (results.hot) {
    const h = results.hot;
    // Served in arrival order, a vote waits for the votes ahead of it: about voters / throughput.
    const fair = (1000 * h.voters) / h.perSecond;
    console.log(
      `| POST /api/images/:id/vote, one image, ${h.voters} voters × ${opts['hot-votes']} at once | ${h.voters} | ${h.perSecond.toFixed(0)} | ${h.p50} | ${h.p99} | ${h.failed} | 0 |` +
        ` max ${h.max} ms; in arrival order each waits ≈ ${fair.toFixed(0)} ms: p99 ${(h.p99 / fair).toFixed(2)}× that`,
    );
  }
  console.log(row('GET /api/images?sort=top', 20, results.list));
  console.log(row('POST /api/images (server render)', 4, results.publish));
  console.log(
    row('POST /api/judge, then its answer (requests; half are trials)', 8, results.judge),
  );
  console.log(
    `votes accepted: ${[...accepted.keys()].length} pairs; scores and vote rows that differ from the accepted responses: ${mismatches}`,
  );
  const all = [
    ...results.votes.map((v) => v.run),
    ...(results.mixed ? [results.mixed.votes.run, results.mixed.publishes] : []),
    results.list,
    results.publish,
    results.judge,
  ];
  // In arrival order no vote of the burst waits much longer than the votes ahead of it.
  const hotFair =
    !results.hot ||
    (results.hot.failed === 0 &&
      results.hot.p99 <= (HOT_P99_BOUND * 1000 * results.hot.voters) / results.hot.perSecond);
  if (!hotFair) console.log(`one hot image: p99 above ${HOT_P99_BOUND}× the arrival-order wait`);
  process.exitCode =
    mismatches === 0 && hotFair && all.every((r) => r.non2xx === 0 && r.errors === 0) ? 0 : 1;
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => server.on('exit', r));
  await dropDb();
}
