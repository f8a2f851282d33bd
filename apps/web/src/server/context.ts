/**
 * The one server context of a process: database (migrated at start), blob store, renderer, API.
 * Kept on globalThis so Next's module reloading in dev never opens PGlite twice (PGlite is
 * single-process and single-client: two clients on one folder corrupt it).
 */
import 'server-only';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createApi,
  createRenderer,
  DEFAULT_RATE_LIMITS,
  postgresLimitStore,
  type GalleryHandler,
  publishStarterSet,
  scaleLimits,
} from '@ganstudio/api';
import { openDb, type DbHandle } from '@ganstudio/db/client';
import type { BlobStore } from '@ganstudio/storage';
import { createLocalStore } from '@ganstudio/storage/local';
import { createVercelStore } from '@ganstudio/storage/vercel';
import { ConfigError, production, readEnv } from './env';
import { seedBundledModel } from './seed';

export interface Context {
  db: DbHandle['db'];
  store: BlobStore;
  secret: string;
  api: GalleryHandler;
}

const globalForContext = globalThis as unknown as { ganstudioContext?: Promise<Context> };

function visitorSecret(env: ReturnType<typeof readEnv>, dataDir: string, shared: boolean): string {
  if (env.VISITOR_SECRET) return env.VISITOR_SECRET;
  // Each instance would invent its own secret: identities would change between instances and
  // every visitor could vote again on each one.
  if (production && shared)
    throw new ConfigError(
      'VISITOR_SECRET is required in production with DATABASE_URL: every instance must sign visitor cookies with the same 16+ character secret',
    );
  const path = join(dataDir, 'visitor-secret');
  if (!existsSync(path)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(path, crypto.randomUUID() + crypto.randomUUID(), { mode: 0o600 });
  }
  return readFileSync(path, 'utf8').trim();
}

async function create(): Promise<Context> {
  const env = readEnv();
  const dataDir = env.GANSTUDIO_DATA_DIR;
  // Checked before opening anything, so a misconfigured instance fails at once with one line.
  const secret = visitorSecret(env, dataDir, Boolean(env.DATABASE_URL));
  const handle = await openDb({ url: env.DATABASE_URL, dataDir: join(dataDir, 'db') });
  const store = env.BLOB_READ_WRITE_TOKEN
    ? createVercelStore(env.BLOB_READ_WRITE_TOKEN)
    : createLocalStore(join(dataDir, 'blobs'));
  await seedBundledModel(handle.db, store);
  const renderer = createRenderer(store, { backend: env.RENDER_BACKEND });
  await publishStarterSet({ db: handle.db, store, renderer });
  const api = createApi({
    db: handle.db,
    store,
    renderer,
    secret,
    limits: scaleLimits(DEFAULT_RATE_LIMITS, env.RATE_LIMIT_SCALE),
    // On PostgreSQL every instance spends the same budgets; PGlite is one process by construction.
    limitStore: handle.kind === 'postgres' ? postgresLimitStore(handle.db) : undefined,
    identity: { minAgeS: env.IDENTITY_MIN_AGE_S },
    proxy: env.TRUSTED_PROXY_HOPS,
    debug: env.DEBUG,
    publicUrl: env.PUBLIC_URL,
    production,
  });
  return { db: handle.db, store, secret, api };
}

export function getContext(): Promise<Context> {
  globalForContext.ganstudioContext ??= create().catch((err: unknown) => {
    globalForContext.ganstudioContext = undefined;
    throw err;
  });
  return globalForContext.ganstudioContext;
}

/** The context at server start; a setting the server cannot run with stops it with one line. */
export async function startServer(): Promise<void> {
  try {
    await getContext();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`error: ${err.message}`);
    process.exit(1);
  }
}
