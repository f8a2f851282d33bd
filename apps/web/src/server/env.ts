/** The web app's environment, read once and validated (t3-env style); documented in .env.example. */
import 'server-only';
import { join } from 'node:path';
import { z } from 'zod';

const Env = z.object({
  /** Postgres (node-postgres). Absent: embedded PGlite in GANSTUDIO_DATA_DIR/db. */
  DATABASE_URL: z.string().url().optional(),
  /** Vercel Blob. Absent: files in GANSTUDIO_DATA_DIR/blobs, served at /blobs. */
  BLOB_READ_WRITE_TOKEN: z.string().min(1).optional(),
  /** HMAC key for visitor cookies. Absent: generated once and kept in GANSTUDIO_DATA_DIR. */
  VISITOR_SECRET: z.string().min(16).optional(),
  GANSTUDIO_DATA_DIR: z.string().default(join(process.cwd(), '.data')),
  /** Scales every rate limit (load benchmarks send thousands of votes from one address). */
  RATE_LIMIT_SCALE: z.coerce.number().positive().default(1),
  /** tfjs backend of the server's re-render on publish: wasm (~17× faster per image) or the pure JS cpu. */
  RENDER_BACKEND: z.enum(['wasm', 'cpu']).default('wasm'),
  /** Proxies in front whose X-Forwarded-For hop per-IP limits trust (1: one proxy, or none). */
  TRUSTED_PROXY_HOPS: z.coerce.number().int().min(1).max(10).default(1),
});

export const env = Env.parse({
  DATABASE_URL: process.env['DATABASE_URL'] || undefined,
  BLOB_READ_WRITE_TOKEN: process.env['BLOB_READ_WRITE_TOKEN'] || undefined,
  VISITOR_SECRET: process.env['VISITOR_SECRET'] || undefined,
  GANSTUDIO_DATA_DIR: process.env['GANSTUDIO_DATA_DIR'] || undefined,
  RATE_LIMIT_SCALE: process.env['RATE_LIMIT_SCALE'] || undefined,
  RENDER_BACKEND: process.env['RENDER_BACKEND'] || undefined,
  TRUSTED_PROXY_HOPS: process.env['TRUSTED_PROXY_HOPS'] || undefined,
});
