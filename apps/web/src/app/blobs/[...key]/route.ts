// Serves the local blob store (the default when BLOB_READ_WRITE_TOKEN is unset) at /blobs/<key>;
// with Vercel Blob the files live at their own URLs and this route serves nothing.
import { serveBlob } from '@ganstudio/storage';

import { getContext } from '~/server/context';

export const dynamic = 'force-dynamic';

export async function GET(request: Request, { params }: { params: Promise<{ key: string[] }> }) {
  const key = (await params).key.join('/');
  const { store } = await getContext();
  if (store.kind !== 'local') return new Response('not found', { status: 404 });
  return serveBlob(store, key, request);
}
