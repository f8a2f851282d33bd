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
import next from 'next';

const PEER_HEADER = 'x-ganstudio-peer';
const FORWARDING = [
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-real-ip',
  'forwarded',
];

const port = Number(process.env.PORT || 3000);
const hostname = process.env.HOST || undefined;
const hops = (process.env.TRUSTED_PROXY_HOPS ?? '').trim().toLowerCase();
const direct = hops === '' || hops === '0';
// Read by the app (src/server/peer.ts): only a process started here trusts PEER_HEADER.
process.env.GANSTUDIO_PEER_HEADER = PEER_HEADER;

const app = next({ dev: false, dir: dirname(fileURLToPath(import.meta.url)), port });
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
  if (direct) for (const name of FORWARDING) delete req.headers[name];
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
server.listen(port, hostname, () => {
  console.log(`gallery: http://${hostname ?? 'localhost'}:${port}`);
});
for (const signal of ['SIGINT', 'SIGTERM'])
  process.on(signal, () => {
    server.close();
    process.exit(0);
  });
