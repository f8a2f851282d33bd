import 'server-only';

/**
 * The connection's own address, as server.mjs (the `npm start` entry) hands it in: it names the
 * header in GANSTUDIO_PEER_HEADER and overwrites whatever a client sent under that name. Under any
 * other entry (`next dev`, a platform's own server) the header is the client's to write, so it is
 * not read: the address is then unknown, unless a trusted proxy or platform preset says it
 * (TRUSTED_PROXY_HOPS).
 */
export function peerAddress(request: Request): string | undefined {
  const header = process.env['GANSTUDIO_PEER_HEADER'];
  return header ? (request.headers.get(header) ?? undefined) : undefined;
}
