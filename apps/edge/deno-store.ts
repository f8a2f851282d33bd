/**
 * The edge's local blob store: files under one folder through Deno's file APIs, served by the
 * edge at /blobs/<key> (what `createLocalStore` is for Node). The default when
 * BLOB_READ_WRITE_TOKEN is unset, so `npm run start:edge` needs no cloud account.
 */
import { assertKey, etagOf, type BlobStore } from '@ganstudio/storage';

let counter = 0;

export function createDenoFileStore(root: string, baseUrl = '/blobs'): BlobStore {
  const pathFor = (key: string) => `${root}/${assertKey(key)}`;
  return {
    kind: 'local',
    urlFor: (key) => `${baseUrl}/${assertKey(key)}`,
    async put(key, body) {
      const path = pathFor(key);
      await Deno.mkdir(path.slice(0, path.lastIndexOf('/')), { recursive: true });
      // Temp file then rename: a reader never sees half a PNG.
      const tmp = `${path}.tmp-${Deno.pid}-${counter++}`;
      await Deno.writeFile(tmp, body);
      await Deno.rename(tmp, path);
      return { key, url: `${baseUrl}/${key}` };
    },
    async get(key) {
      try {
        return await Deno.readFile(pathFor(key));
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) return undefined;
        throw err;
      }
    },
    async open(key) {
      try {
        const file = await Deno.open(pathFor(key), { read: true });
        const { size, mtime } = await file.stat();
        return { body: file.readable, size, etag: etagOf(size, mtime?.getTime() ?? 0) };
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) return undefined;
        throw err;
      }
    },
    async delete(key) {
      await Deno.remove(pathFor(key)).catch((err) => {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      });
    },
  };
}
