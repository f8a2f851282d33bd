/**
 * The one gallery of a process (createGallery: database migrated at start, blob store, renderer,
 * API), built from the settings with what differs on Node.
 * Kept on globalThis so Next's module reloading in dev never opens PGlite twice (PGlite is
 * single-process and single-client: two clients on one folder corrupt it).
 */
import 'server-only';

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

import { createGallery, type Gallery } from '@ganstudio/api/gallery';
import { SettingsError } from '@ganstudio/api/settings';
import { createLocalStore } from '@ganstudio/storage/local';

import { readSettings } from './env';
import { seedGallery } from './seed';

export type Context = Gallery;

const globalForContext = globalThis as unknown as { ganstudioContext?: Promise<Context> };

/** What differs on Node: files in local folders, the generated secret in one, the bundled run. */
const nodePlatform = {
  localStore: createLocalStore,
  secretFile(path: string) {
    if (!existsSync(path)) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, crypto.randomUUID() + crypto.randomUUID(), { mode: 0o600 });
    }
    return Promise.resolve(readFileSync(path, 'utf8').trim());
  },
  seed: seedGallery,
};

/** Settings first: a misconfigured instance fails at once with one line, before anything opens. */
const create = () => createGallery(readSettings(), nodePlatform);

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
