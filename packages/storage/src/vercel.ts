/**
 * Vercel Blob (BLOB_READ_WRITE_TOKEN). Keys are used as pathnames without a random suffix, so a
 * key maps to one stable public URL, as with the local store.
 */
import { del, head, put } from '@vercel/blob';

import { assertKey, type BlobStore } from './index';

export function createVercelStore(token: string): BlobStore {
  const urls = new Map<string, string>();
  return {
    kind: 'vercel-blob',
    urlFor(key) {
      const url = urls.get(assertKey(key));
      if (!url) throw new Error(`no URL known for ${key} yet; put it first`);
      return url;
    },
    async put(key, body, contentType) {
      // The assertion is for DOM's BlobPart (the api and web builds); Node's types need none.
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
      const result = await put(assertKey(key), new Blob([body as Uint8Array<ArrayBuffer>]), {
        access: 'public',
        addRandomSuffix: false,
        allowOverwrite: true,
        contentType,
        token,
      });
      urls.set(key, result.url);
      return { key, url: result.url };
    },
    async get(key) {
      try {
        const meta = await head(assertKey(key), { token });
        const res = await fetch(meta.url);
        return res.ok ? new Uint8Array(await res.arrayBuffer()) : undefined;
      } catch {
        return undefined;
      }
    },
    async delete(key) {
      await del(assertKey(key), { token });
    },
  };
}
