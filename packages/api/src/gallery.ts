/**
 * A whole gallery from its settings: the database (opened and migrated), the blob store, the
 * server renderer, the cookie secret and the API, wired one way for every platform. A platform
 * (the Next.js app, the Deno edge) supplies only what differs between them: where local files go,
 * how the generated secret is kept, and the bundled run to register on first start; the
 * connection's address reaches the handler as its second argument. Not in the handler's import
 * graph (`@ganstudio/api` stays free of Node built-ins): it opens the database, so it is imported
 * as `@ganstudio/api/gallery` by the entries only.
 */
import { openDb, type Db } from '@ganstudio/db/client';
import type { BlobStore } from '@ganstudio/storage';
import { createVercelStore } from '@ganstudio/storage/vercel';

import { publishStarterSet } from './features/images';
import { createApi, type GalleryHandler } from './index';
import { DEFAULT_RATE_LIMITS } from './policy';
import { databaseLimitStore, scaleLimits } from './rate-limit';
import { createRenderer } from './render';
import type { GallerySettings } from './settings';

export interface Platform {
  /** The blob store in a local folder, used when BLOB_READ_WRITE_TOKEN is unset. */
  localStore(dir: string): BlobStore;
  /** The generated cookie secret kept in `path`: read, or created once (VISITOR_SECRET unset). */
  secretFile(path: string): Promise<string>;
  /** First start: registers the bundled run; the starter images follow it. */
  seed?(db: Db, store: BlobStore): Promise<unknown>;
  /** The server render's backend where the platform decides (Deno: the pure JS one). */
  renderBackend?: 'wasm' | 'cpu';
  /** A store that replaces the settings' choice (tests). */
  store?: BlobStore;
}

export interface Gallery {
  db: Db;
  store: BlobStore;
  secret: string;
  settings: GallerySettings;
  kind: 'pglite' | 'postgres';
  api: GalleryHandler;
  close(): Promise<void>;
}

export async function createGallery(
  settings: GallerySettings,
  platform: Platform,
): Promise<Gallery> {
  const dataDir = settings.dataDir;
  if (!dataDir && !(settings.databaseUrl && settings.blobToken && settings.visitorSecret))
    throw new Error(
      'a gallery without GANSTUDIO_DATA_DIR needs DATABASE_URL, BLOB_READ_WRITE_TOKEN and VISITOR_SECRET',
    );
  // Read before anything opens: a missing secret file is created, never half a gallery.
  const secret = settings.visitorSecret ?? (await platform.secretFile(`${dataDir}/visitor-secret`));
  const handle = await openDb({
    url: settings.databaseUrl,
    dataDir: settings.databaseUrl ? undefined : `${dataDir}/db`,
  });
  try {
    const store =
      platform.store ??
      (settings.blobToken
        ? createVercelStore(settings.blobToken)
        : platform.localStore(`${dataDir}/blobs`));
    const renderer = createRenderer(store, {
      backend: platform.renderBackend ?? settings.renderBackend,
    });
    if (platform.seed) {
      await platform.seed(handle.db, store);
      await publishStarterSet({ db: handle.db, store, renderer });
    }
    const api = createApi({
      db: handle.db,
      store,
      renderer,
      secret,
      limits: scaleLimits(DEFAULT_RATE_LIMITS, settings.rateLimitScale),
      // In the database: shared by every instance, kept across restarts (PGlite's too).
      limitStore: databaseLimitStore(handle.db),
      identity: { minAgeS: settings.identityMinAgeS },
      proxy: settings.proxy,
      debug: settings.debug,
      imageRetentionDays: settings.imageRetentionDays,
      publicUrl: settings.publicUrl,
      production: settings.production,
    });
    return {
      db: handle.db,
      store,
      secret,
      settings,
      kind: handle.kind,
      api,
      close: () => handle.close(),
    };
  } catch (err) {
    await handle.close();
    throw err;
  }
}
