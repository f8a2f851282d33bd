/**
 * The edge app: the gallery API (@ganstudio/api, web-standard handlers) on PostgreSQL (opened and
 * migrated by @ganstudio/db's openDb, as the Next.js app does), with budgets shared through that
 * database, files in a local folder through Deno's file APIs (or Vercel Blob when
 * BLOB_READ_WRITE_TOKEN is set), and the bundled generator registered on first start. Several
 * edge and Next.js instances on one database and one blob store are one site.
 */
import {
  createApi,
  createRenderer,
  DEFAULT_RATE_LIMITS,
  parseProxyTrust,
  type ProxyTrust,
  postgresLimitStore,
  publishStarterSet,
  scaleLimits,
} from '@ganstudio/api';
import type { Db } from '@ganstudio/db/client';
import { openDb } from '@ganstudio/db/client';
import { cacheControlFor, contentTypeFor, type BlobStore } from '@ganstudio/storage';
import { createVercelStore } from '@ganstudio/storage/vercel';
import { createDenoFileStore } from './deno-store.ts';
import { sharePage } from './share-page.ts';

export interface EdgeEnv {
  DATABASE_URL?: string;
  BLOB_READ_WRITE_TOKEN?: string;
  /** Required when deployed; locally generated once into GANSTUDIO_DATA_DIR when absent. */
  VISITOR_SECRET?: string;
  /** Proxies of yours writing X-Forwarded-For (default 0: the connection's address counts), or `vercel`. */
  TRUSTED_PROXY_HOPS?: string;
  /** Local data (blobs, a generated visitor secret); default apps/edge/.data. */
  GANSTUDIO_DATA_DIR?: string;
  PUBLIC_URL?: string;
  IDENTITY_MIN_AGE_S?: string;
  RATE_LIMIT_SCALE?: string;
  /** Set on Deno Deploy: cookies are Secure and the secret must be configured. */
  DENO_DEPLOYMENT_ID?: string;
}

/** A setting the edge cannot start with: main.ts prints it as one line and exits 1. */
export class EdgeConfigError extends Error {}

export interface EdgeApp {
  /** `peer`: the connection's own address (main.ts: Deno's remoteAddr), never a header's. */
  fetch(request: Request, peer?: string): Promise<Response>;
  db: Db;
  store: BlobStore;
  close(): Promise<void>;
}

export const DEFAULT_DATA_DIR = new URL('./.data', import.meta.url).pathname;

function wholeNumber(
  name: string,
  value: string | undefined,
  fallback: number,
  min: number,
): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new EdgeConfigError(`${name} must be a whole number ≥ ${min}, got ${value}`);
  return n;
}

async function visitorSecret(env: EdgeEnv, dataDir: string): Promise<string> {
  if (env.VISITOR_SECRET) {
    if (env.VISITOR_SECRET.length < 16)
      throw new EdgeConfigError('VISITOR_SECRET must be at least 16 characters');
    return env.VISITOR_SECRET;
  }
  if (env.DENO_DEPLOYMENT_ID)
    throw new EdgeConfigError(
      'VISITOR_SECRET (16+ characters) is required when deployed: every instance must sign visitor cookies with the same secret',
    );
  const path = `${dataDir}/visitor-secret`;
  try {
    return (await Deno.readTextFile(path)).trim();
  } catch {
    await Deno.mkdir(dataDir, { recursive: true });
    const secret = crypto.randomUUID() + crypto.randomUUID();
    await Deno.writeTextFile(path, secret, { mode: 0o600 });
    return secret;
  }
}

export interface EdgeOptions {
  store?: BlobStore;
  /** A run folder to register as the default model on first start (main.ts: the bundled run). */
  seed?: (db: Db, store: BlobStore) => Promise<unknown>;
}

export async function createEdgeApp(env: EdgeEnv, options: EdgeOptions = {}): Promise<EdgeApp> {
  if (!env.DATABASE_URL)
    throw new EdgeConfigError(
      'DATABASE_URL is required (postgres://…): the edge keeps its data in PostgreSQL',
    );
  const dataDir = env.GANSTUDIO_DATA_DIR || DEFAULT_DATA_DIR;
  const secret = await visitorSecret(env, dataDir);
  let proxy: ProxyTrust;
  try {
    proxy = parseProxyTrust(env.TRUSTED_PROXY_HOPS);
  } catch (err) {
    throw new EdgeConfigError((err as Error).message);
  }
  const minAgeS = wholeNumber('IDENTITY_MIN_AGE_S', env.IDENTITY_MIN_AGE_S, 5, 0);
  const scale = Number(env.RATE_LIMIT_SCALE || '1');
  if (!(scale > 0))
    throw new EdgeConfigError(
      `RATE_LIMIT_SCALE must be a positive number, got ${env.RATE_LIMIT_SCALE}`,
    );
  if (env.PUBLIC_URL && !URL.canParse(env.PUBLIC_URL))
    throw new EdgeConfigError(`PUBLIC_URL is not a URL: ${env.PUBLIC_URL}`);
  const handle = await openDb({ url: env.DATABASE_URL });
  const { db } = handle;
  const store =
    options.store ??
    (env.BLOB_READ_WRITE_TOKEN
      ? createVercelStore(env.BLOB_READ_WRITE_TOKEN)
      : createDenoFileStore(`${dataDir}/blobs`));
  const renderer = createRenderer(store);
  if (options.seed) {
    await options.seed(db, store);
    await publishStarterSet({ db, store, renderer });
  }
  const api = createApi({
    db,
    store,
    renderer,
    secret,
    limits: scaleLimits(DEFAULT_RATE_LIMITS, scale),
    limitStore: postgresLimitStore(db),
    identity: { minAgeS },
    proxy,
    publicUrl: env.PUBLIC_URL,
    production: Boolean(env.DENO_DEPLOYMENT_ID),
  });
  return {
    db,
    store,
    async fetch(request, peer) {
      const url = new URL(request.url);
      if (
        url.pathname.startsWith('/blobs/') &&
        request.method === 'GET' &&
        store.kind === 'local'
      ) {
        let key: string;
        try {
          key = decodeURIComponent(url.pathname.slice('/blobs/'.length));
        } catch {
          return new Response('bad percent-encoding in the path', { status: 400 });
        }
        const bytes = await store.get(key).catch(() => undefined);
        return bytes
          ? new Response(bytes as Uint8Array<ArrayBuffer>, {
              headers: {
                'content-type': contentTypeFor(key),
                'x-content-type-options': 'nosniff',
                'cache-control': cacheControlFor(key),
              },
            })
          : new Response('not found', { status: 404 });
      }
      const share = /^\/i\/([^/]+)\/?$/.exec(url.pathname);
      if (share && request.method === 'GET')
        return sharePage(
          db,
          share[1]!,
          env.PUBLIC_URL ? new URL(env.PUBLIC_URL).origin : url.origin,
        );
      return api(request, peer);
    },
    close: () => handle.close(),
  };
}
