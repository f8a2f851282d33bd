// The gallery's server entry (`npm start`): Next.js behind a plain Node HTTP server, so the API
// knows the connection's own address. Next's route handlers never see the socket, and `next start`
// keeps an X-Forwarded-For the client wrote itself (it only fills the header in when absent), so
// per-address budgets and contributor caps would be the client's to choose. Here every request
// carries the socket's address in PEER_HEADER, overwriting anything the client sent under that
// name, and with no trusted proxy (TRUSTED_PROXY_HOPS unset or 0) the forwarding headers a client
// may have written are dropped before Next or the app read them.
import { createServer } from 'node:http';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import nextEnv from '@next/env';
import next from 'next';

const dir = dirname(fileURLToPath(import.meta.url));
// The app's env files (.env, .env.production, .env.local) before anything is decided here: Next
// reads the same files, so this entry and the app's settings (gallerySettings, which refuses a
// trust this entry cannot honour, e.g. vercel) see one TRUSTED_PROXY_HOPS.
nextEnv.loadEnvConfig(dir, false, { info: () => {}, error: console.error });

const PEER_HEADER = 'x-ganstudio-peer';
/** Headers a proxy of yours may write: kept only when TRUSTED_PROXY_HOPS says one is in front. */
const FORWARDING = ['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-port'];
/** Headers no proxy of this entry writes: whatever is in them came from the client. */
const NEVER_TRUSTED = ['x-real-ip', 'forwarded', 'x-vercel-forwarded-for'];

const port = Number(process.env.PORT || 3000);
const hostname = process.env.HOST || undefined;
const hops = (process.env.TRUSTED_PROXY_HOPS ?? '').trim().toLowerCase();
const direct = hops === '' || hops === '0';
// Read by the app (src/server/peer.ts): only a process started here trusts PEER_HEADER.
process.env.GANSTUDIO_PEER_HEADER = PEER_HEADER;

const app = next({ dev: false, dir, port });
const handle = app.getRequestHandler();
await app.prepare();

/** Methods the app answers; anything else (TRACE, CONNECT, made-up ones) is refused here, not a 500 inside Next. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** A client error answered here, with one log line (never a stack). */
function refuse(req, res, status, message) {
  console.warn(`refused ${status}: ${message}: ${req.method} ${String(req.url).slice(0, 200)}`);
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'no-store',
  });
  res.end(`${message}\n`);
}

/** Whether every percent-escape in the path decodes (Next answers 500 to `/i/%E0%A4%A`). */
function decodes(url) {
  try {
    decodeURIComponent(url.split('?')[0]);
    return true;
  } catch {
    return false;
  }
}

const server = createServer((req, res) => {
  for (const name of direct ? [...FORWARDING, ...NEVER_TRUSTED] : NEVER_TRUSTED)
    delete req.headers[name];
  req.headers[PEER_HEADER] = req.socket.remoteAddress ?? '';
  const url = req.url ?? '/';
  if (!METHODS.has(req.method ?? '')) {
    res.setHeader('allow', [...METHODS].join(', '));
    return refuse(req, res, 405, 'method not allowed');
  }
  if (!decodes(url)) return refuse(req, res, 400, 'bad percent-encoding in the path');
  // The app draws no images through Next's optimizer: a route that resizes on request is only cost.
  if (url.startsWith('/_next/image')) return refuse(req, res, 404, 'no image optimizer here');
  void handle(req, res);
});
// Bounded work per connection. A request has 10 s for its headers and 30 s in all to arrive; a
// connection that moves no bytes for 60 s (a reader that stopped reading, a keep-alive left open)
// is closed; past MAX_CONNECTIONS new connections are refused. /blobs streams, so a stalled
// reader holds one stream's buffer, never a whole file.
const MAX_CONNECTIONS = 1024;
server.headersTimeout = 10_000;
server.requestTimeout = 30_000;
server.maxConnections = MAX_CONNECTIONS;
server.setTimeout(60_000, (socket) => socket.destroy());
server.listen(port, hostname, () => {
  console.log(`gallery: http://${hostname ?? 'localhost'}:${port}`);
});
for (const signal of ['SIGINT', 'SIGTERM'])
  process.on(signal, () => {
    server.close();
    process.exit(0);
  });
