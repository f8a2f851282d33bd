// Serves the local blob store (the default when BLOB_READ_WRITE_TOKEN is unset) at /blobs/<key>.
import { contentTypeFor } from '@ganstudio/storage';
import { getContext } from '~/server/context';

export const dynamic = 'force-dynamic';

export async function GET(_request: Request, { params }: { params: Promise<{ key: string[] }> }) {
  const key = (await params).key.join('/');
  const { store } = await getContext();
  let bytes: Uint8Array | undefined;
  try {
    bytes = await store.get(key);
  } catch {
    bytes = undefined; // an invalid key is simply not found
  }
  if (!bytes) return new Response('not found', { status: 404 });
  return new Response(bytes as Uint8Array<ArrayBuffer>, {
    headers: {
      'content-type': contentTypeFor(key),
      // Keys are content-addressed by id: a key's bytes never change once written.
      'cache-control': 'public, max-age=31536000, immutable',
      'x-content-type-options': 'nosniff',
    },
  });
}
