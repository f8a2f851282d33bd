/**
 * The one server context of a process: database (migrated at start), blob store, renderer, API.
 * Kept on globalThis so Next's module reloading in dev never opens PGlite twice (PGlite is
 * single-process and single-client: two clients on one folder corrupt it).
 */
import 'server-only';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApi, createRenderer, DEFAULT_RATE_LIMITS, type RateLimits } from '@ganstudio/api';
import { openDb, type DbHandle } from '@ganstudio/db/client';
import type { BlobStore } from '@ganstudio/storage';
import { createLocalStore } from '@ganstudio/storage/local';
import { createVercelStore } from '@ganstudio/storage/vercel';
import { env } from './env';
import { seedBundledModel } from './seed';

export interface Context {
  db: DbHandle['db'];
  store: BlobStore;
  secret: string;
  api: (request: Request) => Promise<Response>;
}

const globalForContext = globalThis as unknown as { ganstudioContext?: Promise<Context> };

function visitorSecret(dataDir: string): string {
  if (env.VISITOR_SECRET) return env.VISITOR_SECRET;
  const path = join(dataDir, 'visitor-secret');
  if (!existsSync(path)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(path, crypto.randomUUID() + crypto.randomUUID(), { mode: 0o600 });
  }
  return readFileSync(path, 'utf8').trim();
}

async function create(): Promise<Context> {
  const dataDir = env.GANSTUDIO_DATA_DIR;
  const handle = await openDb({ url: env.DATABASE_URL, dataDir: join(dataDir, 'db') });
  const store = env.BLOB_READ_WRITE_TOKEN ? createVercelStore(env.BLOB_READ_WRITE_TOKEN) : createLocalStore(join(dataDir, 'blobs'));
  await seedBundledModel(handle.db, store);
  const secret = visitorSecret(dataDir);
  const limits = Object.fromEntries(
    Object.entries(DEFAULT_RATE_LIMITS).map(([k, l]) => [k, { ...l, limit: Math.ceil(l.limit * env.RATE_LIMIT_SCALE) }]),
  ) as unknown as RateLimits;
  return { db: handle.db, store, secret, api: createApi({ db: handle.db, store, renderer: createRenderer(store, { backend: env.RENDER_BACKEND }), secret, limits, trustedProxyHops: env.TRUSTED_PROXY_HOPS }) };
}

export function getContext(): Promise<Context> {
  globalForContext.ganstudioContext ??= create().catch((err: unknown) => {
    globalForContext.ganstudioContext = undefined;
    throw err;
  });
  return globalForContext.ganstudioContext;
}
