/**
 * The gallery API on Deno: `deno serve -A main.ts` (locally `npm run start:edge`, or as the
 * entrypoint on Deno Deploy). Environment: see EdgeEnv in context.ts and .env.example. On first
 * start the generator bundled with the repository (apps/web/bundled/default-run) is registered, so
 * a newcomer can publish, render, share and vote against the Deno server right away.
 */
import { seedBundledRun } from '@ganstudio/runs';
import { createEdgeApp, EdgeConfigError, type EdgeApp, type EdgeEnv } from './context.ts';

const BUNDLED_RUN = new URL('../web/bundled/default-run', import.meta.url).pathname;
const names = [
  'DATABASE_URL',
  'BLOB_READ_WRITE_TOKEN',
  'VISITOR_SECRET',
  'TRUSTED_PROXY_HOPS',
  'GANSTUDIO_DATA_DIR',
  'PUBLIC_URL',
  'IDENTITY_MIN_AGE_S',
  'RATE_LIMIT_SCALE',
  'DENO_DEPLOYMENT_ID',
] as const;
const env = Object.fromEntries(names.map((n) => [n, Deno.env.get(n) || undefined])) as EdgeEnv;

let app: EdgeApp;
try {
  app = await createEdgeApp(env, { seed: (db, store) => seedBundledRun(db, store, BUNDLED_RUN) });
} catch (err) {
  // One line for what a person can fix (a setting, an unreachable database), a stack for the rest.
  const e = err as Error & { code?: string };
  if (err instanceof EdgeConfigError) console.error(`error: ${e.message}`);
  else if (e.code === 'ECONNREFUSED' || e.code === '3D000' || e.code === '28P01')
    console.error(`error: cannot open DATABASE_URL (${e.code}: ${e.message})`);
  else throw err;
  Deno.exit(1);
}

export default {
  fetch: (request: Request, info: Deno.ServeHandlerInfo) =>
    app.fetch(request, (info.remoteAddr as Deno.NetAddr).hostname),
} satisfies Deno.ServeDefaultExport;
