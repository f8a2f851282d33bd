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

/** A stored blob opened for serving: its bytes as a stream, and what names this version of it. */
export interface OpenBlob {
  body: ReadableStream<Uint8Array>;
  size: number;
  /** Changes whenever the key's bytes do (size and modification time): no hash per request. */
  etag: string;
}

export interface BlobStore {
  readonly kind: 'local' | 'vercel-blob';
  put(key: string, body: Uint8Array, contentType: string): Promise<PutResult>;
  /** The bytes, or undefined when the key does not exist. */
  get(key: string): Promise<Uint8Array | undefined>;
  /**
   * The blob as a stream for serving (the local stores; Vercel Blob serves its own URLs): read as
   * the client reads, so a slow or stalled reader holds a stream's buffer, never the whole file.
   */
  open?(key: string): Promise<OpenBlob | undefined>;
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

/** An ETag from a blob's size and modification time (ms), as file servers make them. */
export const etagOf = (size: number, mtimeMs: number) =>
  `"${size.toString(36)}-${Math.floor(mtimeMs).toString(36)}"`;

/**
 * GET /blobs/<key> of a local store, for the web app and the edge alike: 404 for a bad or unknown
 * key, the bytes streamed with their type and cache policy, and for revalidated keys (a model's
 * files, republished under one id) 304 when the client's ETag still names them.
 */
export async function serveBlob(
  store: BlobStore,
  key: string,
  request: Request,
): Promise<Response> {
  let blob: OpenBlob | undefined;
  try {
    blob = await store.open?.(key);
  } catch {
    blob = undefined; // an invalid key is simply not found
  }
  if (!blob) return new Response('not found', { status: 404 });
  const headers: Record<string, string> = {
    'content-type': contentTypeFor(key),
    'content-length': String(blob.size),
    'x-content-type-options': 'nosniff',
    'cache-control': cacheControlFor(key),
    etag: blob.etag,
  };
  if (request.headers.get('if-none-match') === blob.etag) {
    await blob.body.cancel();
    const { 'content-length': _length, ...notModified } = headers;
    return new Response(null, { status: 304, headers: notModified });
  }
  return new Response(blob.body, { headers });
}
