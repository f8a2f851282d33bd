/** A blob store in memory (web-standard only): for tests and a single-instance edge dev server. */
import { assertKey, type BlobStore } from './index';

export function createMemoryStore(baseUrl = '/blobs'): BlobStore & { size(): number } {
  const blobs = new Map<string, Uint8Array>();
  return {
    kind: 'local',
    urlFor: (key) => `${baseUrl}/${assertKey(key)}`,
    async put(key, body) {
      blobs.set(assertKey(key), body.slice());
      return { key, url: `${baseUrl}/${key}` };
    },
    async get(key) {
      return blobs.get(assertKey(key));
    },
    async delete(key) {
      blobs.delete(assertKey(key));
    },
    size: () => blobs.size,
  };
}
