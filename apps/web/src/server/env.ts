/** The web app's environment, read once and validated (t3-env style); documented in .env.example. */
import 'server-only';
import { join } from 'node:path';
import { z } from 'zod';
import { parseProxyTrust } from '@ganstudio/api';

const Env = z.object({
  /** Postgres (node-postgres). Absent: embedded PGlite in GANSTUDIO_DATA_DIR/db. */
  DATABASE_URL: z.string().url().optional(),
  /** Vercel Blob. Absent: files in GANSTUDIO_DATA_DIR/blobs, served at /blobs. */
  BLOB_READ_WRITE_TOKEN: z.string().min(1).optional(),
  /**
   * HMAC key for visitor cookies. Required in production on PostgreSQL (instances sharing one
   * database serve one site and must share identities); otherwise generated once into GANSTUDIO_DATA_DIR.
   */
  VISITOR_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  /** The site's public origin: share links and the same-origin check use it instead of Host headers. */
  PUBLIC_URL: z.string().url().optional(),
  /** Seconds a new visitor identity waits before its votes and publishes count. */
  IDENTITY_MIN_AGE_S: z.coerce.number().int().min(0).max(3600).default(5),
  GANSTUDIO_DATA_DIR: z.string().default(join(process.cwd(), '.data')),
  /** Scales every rate limit (load benchmarks send thousands of votes from one address). */
  RATE_LIMIT_SCALE: z.coerce.number().positive().default(1),
  /** tfjs backend of the server's re-render on publish: wasm (~17× faster per image) or the pure JS cpu. */
  RENDER_BACKEND: z.enum(['wasm', 'cpu']).default('wasm'),
  /**
   * Who writes X-Forwarded-For: unset or 0, nobody (the connection's address counts; server.mjs
   * hands it in); N, that many proxies of yours; `vercel`, Vercel's edge (the default on Vercel).
   */
  TRUSTED_PROXY_HOPS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      try {
        return parseProxyTrust(v, process.env['VERCEL'] === '1');
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  /** Unexpected errors are logged with their stack (otherwise one line each). */
  DEBUG: z
    .string()
    .optional()
    .transform((v) => Boolean(v && v !== '0')),
});

const parsed = Env.safeParse({
  DATABASE_URL: process.env['DATABASE_URL'] || undefined,
  BLOB_READ_WRITE_TOKEN: process.env['BLOB_READ_WRITE_TOKEN'] || undefined,
  VISITOR_SECRET: process.env['VISITOR_SECRET'] || undefined,
  PUBLIC_URL: process.env['PUBLIC_URL'] || undefined,
  IDENTITY_MIN_AGE_S: process.env['IDENTITY_MIN_AGE_S'] || undefined,
  GANSTUDIO_DATA_DIR: process.env['GANSTUDIO_DATA_DIR'] || undefined,
  RATE_LIMIT_SCALE: process.env['RATE_LIMIT_SCALE'] || undefined,
  RENDER_BACKEND: process.env['RENDER_BACKEND'] || undefined,
  TRUSTED_PROXY_HOPS: process.env['TRUSTED_PROXY_HOPS'] || undefined,
  DEBUG: process.env['DEBUG'] || undefined,
});

/** A setting the server cannot start with: printed as one line at start (instrumentation.ts). */
export class ConfigError extends Error {}

/** One clear line per bad variable at start, not a zod stack. */
function check(): z.infer<typeof Env> {
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid environment (see .env.example): ${lines.join('; ')}`);
  }
  return parsed.data;
}

/** Read on first use (server start), so a bad variable is reported by startServer as one line. */
export const readEnv = check;

/** `next start` / a deployment, as opposed to `next dev` and the build's page workers. */
export const production = process.env.NODE_ENV === 'production';
