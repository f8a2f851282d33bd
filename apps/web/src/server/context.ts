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
  publishStarterSet,
  scaleLimits,
  SettingsError,
  type GalleryHandler,
  type GallerySettings,
} from '@ganstudio/api';
import { openDb, type DbHandle } from '@ganstudio/db/client';
import type { BlobStore } from '@ganstudio/storage';
import { createLocalStore } from '@ganstudio/storage/local';
import { createVercelStore } from '@ganstudio/storage/vercel';
import { readSettings } from './env';
import { seedBundledModel } from './seed';

export interface Context {
  db: DbHandle['db'];
  store: BlobStore;
  secret: string;
  settings: GallerySettings;
  api: GalleryHandler;
}

const globalForContext = globalThis as unknown as { ganstudioContext?: Promise<Context> };

/** VISITOR_SECRET, or one generated once into the data folder where settings allow it. */
function visitorSecret(settings: GallerySettings, dataDir: string): string {
  if (settings.visitorSecret) return settings.visitorSecret;
  const path = join(dataDir, 'visitor-secret');
  if (!existsSync(path)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(path, crypto.randomUUID() + crypto.randomUUID(), { mode: 0o600 });
  }
  return readFileSync(path, 'utf8').trim();
}

async function create(): Promise<Context> {
  // Checked before opening anything, so a misconfigured instance fails at once with one line.
  const settings = readSettings();
  const dataDir = settings.dataDir!; // the web platform always has one (apps/web/.data)
  const secret = visitorSecret(settings, dataDir);
  const handle = await openDb({ url: settings.databaseUrl, dataDir: join(dataDir, 'db') });
  const store = settings.blobToken
    ? createVercelStore(settings.blobToken)
    : createLocalStore(join(dataDir, 'blobs'));
  await seedBundledModel(handle.db, store);
  const renderer = createRenderer(store, { backend: settings.renderBackend });
  await publishStarterSet({ db: handle.db, store, renderer });
  const api = createApi({
    db: handle.db,
    store,
    renderer,
    secret,
    limits: scaleLimits(DEFAULT_RATE_LIMITS, settings.rateLimitScale),
    // On PostgreSQL every instance spends the same budgets; PGlite is one process by construction.
    limitStore: handle.kind === 'postgres' ? postgresLimitStore(handle.db) : undefined,
    identity: { minAgeS: settings.identityMinAgeS },
    proxy: settings.proxy,
    debug: settings.debug,
    publicUrl: settings.publicUrl,
    production: settings.production,
  });
  return { db: handle.db, store, secret, settings, api };
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
    if (!(err instanceof SettingsError)) throw err;
    console.error(`error: ${err.message}`);
    process.exit(1);
  }
}
