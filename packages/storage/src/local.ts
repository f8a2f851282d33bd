/** The default store: files under one folder, served by the web app at `${baseUrl}/<key>`. */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

import { assertKey, type BlobStore } from './index';

let counter = 0;

export function createLocalStore(root: string, baseUrl = '/blobs'): BlobStore {
  const pathFor = (key: string) => join(root, ...assertKey(key).split('/'));
  return {
    kind: 'local',
    urlFor: (key) => `${baseUrl}/${assertKey(key)}`,
    async put(key, body) {
      const path = pathFor(key);
      await mkdir(dirname(path), { recursive: true });
      // Temp file then rename: a reader never sees half a PNG.
      const tmp = `${path}.tmp-${process.pid}-${counter++}`;
      await writeFile(tmp, body);
      await rename(tmp, path);
      return { key, url: `${baseUrl}/${key}` };
    },
    async get(key) {
      try {
        return new Uint8Array(await readFile(pathFor(key)));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
    },
    async delete(key) {
      await rm(pathFor(key), { force: true });
    },
  };
}
