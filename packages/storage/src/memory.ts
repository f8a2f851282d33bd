/** A blob store in memory (web-standard only): for tests and a single-instance edge dev server. */
import { assertKey, etagOf, type BlobStore } from './index';

export function createMemoryStore(baseUrl = '/blobs'): BlobStore & { size(): number } {
  const blobs = new Map<string, Uint8Array>();
  const versions = new Map<string, number>();
  let version = 0;
  return {
    kind: 'local',
    urlFor: (key) => `${baseUrl}/${assertKey(key)}`,
    // Promise-returning, as every store's methods are; nothing here waits.
    put(key, body) {
      blobs.set(assertKey(key), body.slice());
      versions.set(key, ++version);
      return Promise.resolve({ key, url: `${baseUrl}/${key}` });
    },
    get(key) {
      return Promise.resolve(blobs.get(assertKey(key)));
    },
    open(key) {
      const bytes = blobs.get(assertKey(key));
      if (!bytes) return Promise.resolve(undefined);
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(bytes);
          controller.close();
        },
      });
      return Promise.resolve({
        body,
        size: bytes.byteLength,
        etag: etagOf(bytes.byteLength, versions.get(key) ?? 0),
      });
    },
    delete(key) {
      blobs.delete(assertKey(key));
      return Promise.resolve();
    },
    size: () => blobs.size,
  };
}
