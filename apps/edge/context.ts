/**
 * The edge app: the gallery (createGallery, as the Next.js app builds it) on PostgreSQL, with
 * budgets shared through that database, files in a local folder through Deno's file APIs (or
 * Vercel Blob when BLOB_READ_WRITE_TOKEN is set), and the bundled generator registered on first
 * start; around it, the local blob route and share pages. Several edge and Next.js instances on
 * one database and one blob store are one site.
 */
import { createGallery } from '@ganstudio/api/gallery';
import { gallerySettings, type SETTING_NAMES } from '@ganstudio/api/settings';
import type { Db } from '@ganstudio/db/client';
import { serveBlob, type BlobStore } from '@ganstudio/storage';

import { createDenoFileStore } from './deno-store.ts';
import { sharePage } from './share-page.ts';

/** The edge's environment as read by main.ts: the gallery's variables (gallerySettings, SETTING_NAMES). */
export type EdgeEnv = Partial<Record<(typeof SETTING_NAMES)[number], string>>;

export interface EdgeApp {
  /** `peer`: the connection's own address (main.ts: Deno's remoteAddr), never a header's. */
  fetch(request: Request, peer?: string): Promise<Response>;
  db: Db;
  store: BlobStore;
  close(): Promise<void>;
}

export const DEFAULT_DATA_DIR = new URL('./.data', import.meta.url).pathname;

/** The generated cookie secret (not deployed, VISITOR_SECRET unset), kept with Deno's file APIs. */
async function secretFile(path: string): Promise<string> {
  try {
    return (await Deno.readTextFile(path)).trim();
  } catch {
    await Deno.mkdir(path.slice(0, path.lastIndexOf('/')), { recursive: true });
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

/**
 * The edge app for `env`. A bad or missing setting is a SettingsError (main.ts prints it as one
 * line); the rules are gallerySettings', the same as the Next.js app's.
 */
export async function createEdgeApp(env: EdgeEnv, options: EdgeOptions = {}): Promise<EdgeApp> {
  const settings = gallerySettings(env, 'deno', {
    requireDatabase: true,
    defaultDataDir: DEFAULT_DATA_DIR,
    connectionAddress: true, // main.ts hands in Deno's remoteAddr
  });
  const gallery = await createGallery(settings, {
    localStore: createDenoFileStore,
    secretFile,
    // The pure JS backend, as the edge has always rendered (docs/benchmarks.md: ~140 ms warm).
    renderBackend: 'cpu',
    ...(options.seed ? { seed: options.seed } : {}),
    ...(options.store ? { store: options.store } : {}),
  });
  const { db, store, api } = gallery;
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
        return await serveBlob(store, key, request);
      }
      const share = /^\/i\/([^/]+)\/?$/.exec(url.pathname);
      if (share && request.method === 'GET')
        return sharePage(
          db,
          share[1]!,
          settings.publicUrl ? new URL(settings.publicUrl).origin : url.origin,
        );
      return api(request, peer);
    },
    close: () => gallery.close(),
  };
}
