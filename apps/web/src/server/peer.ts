import 'server-only';

import { peerHeader } from './env';

/**
 * The connection's own address, as server.mjs (the `npm start` entry) hands it in. Under any
 * other entry (`next dev`, a platform's own server) the header is the client's to write, so it is
 * not read: the address is then unknown, unless a trusted proxy or platform preset says it
 * (TRUSTED_PROXY_HOPS).
 */
export function peerAddress(request: Request): string | undefined {
  return peerHeader ? (request.headers.get(peerHeader) ?? undefined) : undefined;
}
