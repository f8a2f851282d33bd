/**
 * The gallery API on Deno: `deno serve -A main.ts` (locally, or as the entrypoint on Deno Deploy).
 * Environment: DATABASE_URL, BLOB_READ_WRITE_TOKEN, VISITOR_SECRET (see README, "Edge API").
 */
import { createEdgeApp } from './context.ts';

const app = await createEdgeApp({
  DATABASE_URL: Deno.env.get('DATABASE_URL'),
  BLOB_READ_WRITE_TOKEN: Deno.env.get('BLOB_READ_WRITE_TOKEN'),
  VISITOR_SECRET: Deno.env.get('VISITOR_SECRET'),
});

export default { fetch: (request: Request) => app.fetch(request) } satisfies Deno.ServeDefaultExport;
