/**
 * One blob store for the gallery: published PNGs, run grids and generator weights. Two adapters
 * with the same keys and URL shape: a local folder served by the app at /blobs/<key> (default)
 * and Vercel Blob (when BLOB_READ_WRITE_TOKEN is set). Web-standard types only, so the API
 * handlers that take a BlobStore run in Node, Deno and edge runtimes alike.
 */

export interface PutResult {
  key: string;
  /** Public URL: /blobs/<key> locally (relative to the site), https://… on Vercel Blob. */
  url: string;
}

export interface BlobStore {
  readonly kind: 'local' | 'vercel-blob';
  put(key: string, body: Uint8Array, contentType: string): Promise<PutResult>;
  /** The bytes, or undefined when the key does not exist. */
  get(key: string): Promise<Uint8Array | undefined>;
  delete(key: string): Promise<void>;
  urlFor(key: string): string;
}

/** Keys are slash-separated [A-Za-z0-9._-] segments: no "..", no absolute paths, nothing a URL must escape. */
const KEY = /^(?!.*(^|\/)\.\.?(\/|$))[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

export function assertKey(key: string): string {
  if (key.length > 512 || !KEY.test(key))
    throw new RangeError(`invalid blob key: ${JSON.stringify(key)}`);
  return key;
}

export const CONTENT_TYPES: Record<string, string> = {
  png: 'image/png',
  json: 'application/json',
  bin: 'application/octet-stream',
};

export function contentTypeFor(key: string): string {
  return CONTENT_TYPES[key.split('.').pop() ?? ''] ?? 'application/octet-stream';
}

/**
 * Cache-Control for a served key. Image, card and run-grid keys name bytes that never change (ids
 * are never reused); a model's files are republished under the same id, so they are revalidated.
 */
export function cacheControlFor(key: string): string {
  return /^(images|cards|runs)\//.test(key)
    ? 'public, max-age=31536000, immutable'
    : 'public, no-cache';
}
