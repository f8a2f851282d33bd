/** The default store: files under one folder, served by the web app at `${baseUrl}/<key>`. */
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';

import { assertKey, etagOf, type BlobStore } from './index';

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
    async open(key) {
      const path = pathFor(key);
      try {
        const { size, mtimeMs } = await stat(path);
        // 16 KiB chunks: what a connection that stops reading holds here (not 64 KiB, not the file).
        const file = createReadStream(path, { highWaterMark: 16 * 1024 });
        const body = Readable.toWeb(file) as ReadableStream<Uint8Array>;
        return { body, size, etag: etagOf(size, mtimeMs) };
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
