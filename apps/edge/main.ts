/**
 * The gallery API on Deno: `deno serve -A main.ts` (locally, or as the entrypoint on Deno Deploy).
 * Environment: DATABASE_URL, BLOB_READ_WRITE_TOKEN, VISITOR_SECRET, TRUSTED_PROXY_HOPS (see README,
 * "Edge API").
 */
import { createEdgeApp, withPeerAddress } from './context.ts';

const app = await createEdgeApp({
  DATABASE_URL: Deno.env.get('DATABASE_URL'),
  BLOB_READ_WRITE_TOKEN: Deno.env.get('BLOB_READ_WRITE_TOKEN'),
  VISITOR_SECRET: Deno.env.get('VISITOR_SECRET'),
  TRUSTED_PROXY_HOPS: Deno.env.get('TRUSTED_PROXY_HOPS'),
});

export default {
  fetch: (request: Request, info: Deno.ServeHandlerInfo) =>
    app.fetch(withPeerAddress(request, (info.remoteAddr as Deno.NetAddr).hostname)),
} satisfies Deno.ServeDefaultExport;
