// Serves the local blob store (the default when BLOB_READ_WRITE_TOKEN is unset) at /blobs/<key>;
// with Vercel Blob the files live at their own URLs and this route serves nothing.
import { cacheControlFor, contentTypeFor } from '@ganstudio/storage';

import { getContext } from '~/server/context';

export const dynamic = 'force-dynamic';

export async function GET(request: Request, { params }: { params: Promise<{ key: string[] }> }) {
  const key = (await params).key.join('/');
  const { store } = await getContext();
  if (store.kind !== 'local') return new Response('not found', { status: 404 });
  let bytes: Uint8Array | undefined;
  try {
    bytes = await store.get(key);
  } catch {
    bytes = undefined; // an invalid key is simply not found
  }
  if (!bytes) return new Response('not found', { status: 404 });
  const headers: Record<string, string> = {
    'content-type': contentTypeFor(key),
    'x-content-type-options': 'nosniff',
    'cache-control': cacheControlFor(key),
  };
  // Revalidated keys (a model's files, republished under one id) answer 304 by a digest of their bytes.
  if (headers['cache-control']?.includes('no-cache')) {
    const digest = new Uint8Array(
      await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>),
    );
    const etag = `"${Buffer.from(digest.subarray(0, 16)).toString('base64url')}"`;
    headers['etag'] = etag;
    if (request.headers.get('if-none-match') === etag)
      return new Response(null, { status: 304, headers });
  }
  return new Response(bytes as Uint8Array<ArrayBuffer>, { headers });
}
