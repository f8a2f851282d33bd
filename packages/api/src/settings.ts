/**
 * Every setting of a gallery, its bounds and its rules, in one place: the Next.js app, the Deno
 * edge and the trainer's `upload` hand their environment to gallerySettings and read settings only
 * from what it returns (a lint rule keeps raw environment reads out of gallery code). Web-standard:
 * the caller passes the variables; nothing here reads `process` or `Deno`. Documented for users in
 * .env.example.
 */
import { z } from 'zod';

import { parseProxyTrust, type ProxyTrust } from './address';

/** Where the settings are read: each platform decides what "production" means there. */
export type SettingsPlatform = 'next' | 'deno' | 'cli';

export interface GallerySettings {
  /** Postgres (node-postgres). Absent: embedded PGlite in `dataDir`/db (not on the edge). */
  databaseUrl: string | undefined;
  /** Vercel Blob. Absent: files in `dataDir`/blobs, served at /blobs. */
  blobToken: string | undefined;
  /** HMAC key of visitor cookies; absent where a generated one is allowed (see visitorSecretRule). */
  visitorSecret: string | undefined;
  /** The site's public origin: share links and the same-origin check use it, never Host headers. */
  publicUrl: string | undefined;
  /** Seconds a new visitor identity waits before its votes and publishes count. */
  identityMinAgeS: number;
  /** Local data (PGlite, blobs, a generated secret); undefined when the platform has no default. */
  dataDir: string | undefined;
  /** Scales every rate limit (load benchmarks send thousands of requests from one host). */
  rateLimitScale: number;
  /** tfjs backend of the server's re-render: wasm (~17× faster per image in Node) or pure JS cpu. */
  renderBackend: 'wasm' | 'cpu';
  /** Who writes X-Forwarded-For (address.ts). */
  proxy: ProxyTrust;
  /** Days after which an image nobody voted on or shared is removed; undefined keeps every image. */
  imageRetentionDays: number | undefined;
  /** Stacks of unexpected errors in the log (otherwise one line each). */
  debug: boolean;
  /** A deployment (`next start`, NODE_ENV=production; Deno Deploy): cookies Secure off localhost. */
  production: boolean;
}

/** Every variable gallerySettings reads, for entries that pass only these (Deno: `--allow-env` lists). */
export const SETTING_NAMES = [
  'DATABASE_URL',
  'BLOB_READ_WRITE_TOKEN',
  'VISITOR_SECRET',
  'PUBLIC_URL',
  'IDENTITY_MIN_AGE_S',
  'GANSTUDIO_DATA_DIR',
  'RATE_LIMIT_SCALE',
  'RENDER_BACKEND',
  'TRUSTED_PROXY_HOPS',
  'IMAGE_RETENTION_DAYS',
  'DEBUG',
  'NODE_ENV',
  'VERCEL',
  'DENO_DEPLOYMENT_ID',
] as const;

/** A setting a gallery cannot start with: its entry prints the message as one line and exits 1. */
export class SettingsError extends Error {}

const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

const Env = z.object({
  DATABASE_URL: optional(
    z
      .string()
      .regex(/^postgres(ql)?:\/\/./, 'must be a postgres:// URL')
      .refine((v) => URL.canParse(v), 'is not a URL'),
  ),
  BLOB_READ_WRITE_TOKEN: optional(z.string()),
  VISITOR_SECRET: optional(z.string().min(16, 'must be at least 16 characters')),
  PUBLIC_URL: optional(
    z
      .string()
      .refine(
        (v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol),
        'is not an http(s) URL',
      ),
  ),
  IDENTITY_MIN_AGE_S: optional(z.coerce.number().int('must be whole seconds').min(0).max(3600)),
  GANSTUDIO_DATA_DIR: optional(z.string()),
  RATE_LIMIT_SCALE: optional(z.coerce.number().positive('must be a positive number')),
  RENDER_BACKEND: optional(z.enum(['wasm', 'cpu'])),
  TRUSTED_PROXY_HOPS: optional(z.string()),
  IMAGE_RETENTION_DAYS: optional(
    z.coerce.number().int('must be whole days').min(1, 'must be at least 1 day').max(36_500),
  ),
  DEBUG: optional(z.string()),
  NODE_ENV: optional(z.string()),
  VERCEL: optional(z.string()),
  DENO_DEPLOYMENT_ID: optional(z.string()),
});

export interface SettingsOptions {
  /** The data folder when GANSTUDIO_DATA_DIR is unset (none: the caller decides). */
  defaultDataDir?: string;
  /** The edge keeps everything in PostgreSQL: DATABASE_URL is required there. */
  requireDatabase?: boolean;
  /**
   * Whether the entry hands the app the connection's own address (`npm start`'s server.mjs, the
   * Deno edge): proxy hops are counted back from it. Without it (`next start`, `next dev`, a
   * platform's own server) only Vercel's runtime says the address.
   */
  connectionAddress?: boolean;
}

/**
 * The settings of `env` on `platform`, or one SettingsError naming every bad variable. Rules:
 * - VISITOR_SECRET is required in production on PostgreSQL (instances sharing one database serve
 *   one site and must share identities); elsewhere a generated one in the data folder is allowed.
 * - TRUSTED_PROXY_HOPS defaults to 0, or to `vercel` on Vercel (VERCEL=1); `vercel` only where no
 *   entry hands in the connection's address, N > 0 only where one does.
 */
export function gallerySettings(
  env: Record<string, string | undefined>,
  platform: SettingsPlatform,
  options: SettingsOptions = {},
): GallerySettings {
  const parsed = Env.safeParse(Object.fromEntries(SETTING_NAMES.map((n) => [n, env[n]])));
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`);
  const e = parsed.success ? parsed.data : ({} as z.infer<typeof Env>);
  let proxy: ProxyTrust = { hops: 0 };
  try {
    proxy = parseProxyTrust(env['TRUSTED_PROXY_HOPS'], env['VERCEL'] === '1');
  } catch (err) {
    problems.push((err as Error).message);
  }
  // One decision of whom to believe, made here for every entry (server.mjs strips by the same
  // variables, read from the same env files): a setting the entry cannot honour stops the start.
  if (options.connectionAddress && proxy === 'vercel')
    problems.push(
      "TRUSTED_PROXY_HOPS=vercel (or VERCEL=1) is for Vercel's runtime, whose edge writes the client's address; this server is reached directly, where any client could write that header: unset VERCEL, or set TRUSTED_PROXY_HOPS to the number of your proxies",
    );
  if (options.connectionAddress === false && proxy !== 'vercel' && proxy.hops > 0)
    problems.push(
      `TRUSTED_PROXY_HOPS=${proxy.hops} counts proxies back from the connection's own address, which only npm start (server.mjs) hands in: start the gallery with npm start`,
    );
  const production =
    platform === 'next'
      ? env['NODE_ENV'] === 'production'
      : platform === 'deno'
        ? Boolean(env['DENO_DEPLOYMENT_ID'])
        : false;
  if (options.requireDatabase && !env['DATABASE_URL'])
    problems.push('DATABASE_URL is required (postgres://…): the edge keeps its data in PostgreSQL');
  if (parsed.success && production && e.DATABASE_URL && !e.VISITOR_SECRET)
    problems.push(
      'VISITOR_SECRET (16+ characters) is required in production with DATABASE_URL: every instance must sign visitor cookies with the same secret',
    );
  if (problems.length) throw new SettingsError(problems.join('; '));
  return {
    databaseUrl: e.DATABASE_URL,
    blobToken: e.BLOB_READ_WRITE_TOKEN,
    visitorSecret: e.VISITOR_SECRET,
    publicUrl: e.PUBLIC_URL,
    identityMinAgeS: e.IDENTITY_MIN_AGE_S ?? 5,
    dataDir: e.GANSTUDIO_DATA_DIR ?? options.defaultDataDir,
    rateLimitScale: e.RATE_LIMIT_SCALE ?? 1,
    renderBackend: e.RENDER_BACKEND ?? 'wasm',
    proxy,
    imageRetentionDays: e.IMAGE_RETENTION_DAYS,
    debug: Boolean(e.DEBUG && e.DEBUG !== '0'),
    production,
  };
}
