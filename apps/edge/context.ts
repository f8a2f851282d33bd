/**
 * The edge app: the gallery API (@ganstudio/api, web-standard handlers) on Postgres through
 * node-postgres (which Deno and Deno Deploy run), Vercel Blob for files, and an HMAC secret for
 * visitor cookies — all from the environment. Without BLOB_READ_WRITE_TOKEN it keeps files in
 * memory and serves them at /blobs (one instance, development only).
 */
import pg from 'pg';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { createApi, createRenderer } from '@ganstudio/api';
import type { Db } from '@ganstudio/db/client';
import * as schema from '@ganstudio/db/schema';
import { contentTypeFor, type BlobStore } from '@ganstudio/storage';
import { createMemoryStore } from '@ganstudio/storage/memory';
import { createVercelStore } from '@ganstudio/storage/vercel';

export interface EdgeEnv {
  DATABASE_URL?: string;
  BLOB_READ_WRITE_TOKEN?: string;
  VISITOR_SECRET?: string;
  /** Trusted X-Forwarded-For hops, counting the peer address main.ts appends (default 1). */
  TRUSTED_PROXY_HOPS?: string;
}

/**
 * Appends the connection's peer address to X-Forwarded-For, as a proxy would, so per-IP rate
 * limits (which read hops from the right) key on an address the client cannot choose.
 */
export function withPeerAddress(request: Request, peer: string | undefined): Request {
  if (!peer) return request;
  const headers = new Headers(request.headers);
  const prior = headers.get('x-forwarded-for');
  headers.set('x-forwarded-for', prior ? `${prior}, ${peer}` : peer);
  return new Request(request, { headers });
}

export interface EdgeApp {
  fetch(request: Request): Promise<Response>;
  db: Db;
  store: BlobStore;
  close(): Promise<void>;
}

const MIGRATIONS = new URL('../../packages/db/drizzle', import.meta.url).pathname;

export async function createEdgeApp(env: EdgeEnv, options: { store?: BlobStore; migrate?: boolean } = {}): Promise<EdgeApp> {
  if (!env.DATABASE_URL) throw new Error('DATABASE_URL is required (postgres://…)');
  if (!env.VISITOR_SECRET || env.VISITOR_SECRET.length < 16) throw new Error('VISITOR_SECRET (16+ characters) is required to sign visitor cookies');
  const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 5 });
  pool.on('error', () => {}); // idle clients dropped by the server are replaced on next use
  const db = drizzle(pool, { schema }) as unknown as Db;
  if (options.migrate ?? true) await migrate(db as never, { migrationsFolder: MIGRATIONS });
  const store = options.store ?? (env.BLOB_READ_WRITE_TOKEN ? createVercelStore(env.BLOB_READ_WRITE_TOKEN) : createMemoryStore());
  const hops = Number(env.TRUSTED_PROXY_HOPS ?? '1');
  if (!Number.isInteger(hops) || hops < 1) throw new Error(`TRUSTED_PROXY_HOPS must be a whole number ≥ 1, got ${env.TRUSTED_PROXY_HOPS}`);
  const api = createApi({ db, store, renderer: createRenderer(store), secret: env.VISITOR_SECRET, trustedProxyHops: hops });
  return {
    db,
    store,
    async fetch(request) {
      const { pathname } = new URL(request.url);
      if (pathname.startsWith('/blobs/') && request.method === 'GET' && store.kind === 'local') {
        const key = decodeURIComponent(pathname.slice('/blobs/'.length));
        const bytes = await store.get(key).catch(() => undefined);
        return bytes
          ? new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'content-type': contentTypeFor(key), 'x-content-type-options': 'nosniff' } })
          : new Response('not found', { status: 404 });
      }
      return api(request);
    },
    close: () => pool.end(),
  };
}
