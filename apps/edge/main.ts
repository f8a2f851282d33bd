/**
 * The gallery API on Deno: `deno serve -A main.ts` (locally `npm run start:edge`, or as the
 * entrypoint on Deno Deploy). Environment: gallerySettings in @ganstudio/api, and .env.example. On first
 * start what ships with the repository (@ganstudio/bundled: the default generator and the rest of
 * its manifest) is registered, so a newcomer can publish, render, share and vote against the Deno server right away.
 */
import { SETTING_NAMES, SettingsError } from '@ganstudio/api';
import { seedBundled } from '@ganstudio/api/features/publish';
import { bundledArtifacts } from '@ganstudio/bundled';
import { folderReader } from '@ganstudio/runs/folder';

import { createEdgeApp, type EdgeApp, type EdgeEnv } from './context.ts';

// The one read of the environment: the gallery's variables, validated by createEdgeApp.
const env: EdgeEnv = Object.fromEntries(SETTING_NAMES.map((n) => [n, Deno.env.get(n)]));

let app: EdgeApp;
try {
  app = await createEdgeApp(env, {
    seed: (db, store) => seedBundled(db, store, bundledArtifacts(), folderReader),
  });
} catch (err) {
  // One line for what a person can fix (a setting, an unreachable database), a stack for the rest.
  const e = err as Error & { code?: string };
  if (err instanceof SettingsError) console.error(`error: ${e.message}`);
  else if (e.code === 'ECONNREFUSED' || e.code === '3D000' || e.code === '28P01')
    console.error(`error: cannot open DATABASE_URL (${e.code}: ${e.message})`);
  else throw err;
  Deno.exit(1);
}

export default {
  fetch: (request: Request, info: Deno.ServeHandlerInfo) =>
    app.fetch(request, (info.remoteAddr as Deno.NetAddr).hostname),
} satisfies Deno.ServeDefaultExport;
