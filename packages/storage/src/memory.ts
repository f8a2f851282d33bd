/** A blob store in memory (web-standard only): for tests and a single-instance edge dev server. */
import { assertKey, type BlobStore } from './index';

export function createMemoryStore(baseUrl = '/blobs'): BlobStore & { size(): number } {
  const blobs = new Map<string, Uint8Array>();
  return {
    kind: 'local',
    urlFor: (key) => `${baseUrl}/${assertKey(key)}`,
    // Promise-returning, as every store's methods are; nothing here waits.
    put(key, body) {
      blobs.set(assertKey(key), body.slice());
      return Promise.resolve({ key, url: `${baseUrl}/${key}` });
    },
    get(key) {
      return Promise.resolve(blobs.get(assertKey(key)));
    },
    delete(key) {
      blobs.delete(assertKey(key));
      return Promise.resolve();
    },
    size: () => blobs.size,
  };
}
