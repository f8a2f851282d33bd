import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { assertKey, serveBlob } from './index';
import { createLocalStore } from './local';
import { createMemoryStore } from './memory';
import { createVercelStore } from './vercel';

describe('serving blobs', () => {
  for (const [name, make] of [
    ['local folder', () => createLocalStore(mkdtempSync(join(tmpdir(), 'serve-')))],
    ['memory', () => createMemoryStore()],
  ] as const)
    it(`streams a blob with its ETag, 304 while it is unchanged, a new ETag when republished (${name})`, async () => {
      const store = make();
      const weights = new Uint8Array(300_000).map((_, i) => i % 251);
      await store.put('models/m/weights.bin', weights, 'application/octet-stream');
      const get = (headers: Record<string, string> = {}) =>
        serveBlob(store, 'models/m/weights.bin', new Request('http://g/x', { headers }));
      const first = await get();
      expect(first.status).toBe(200);
      expect(first.headers.get('content-length')).toBe('300000');
      expect(first.headers.get('cache-control')).toBe('public, no-cache');
      expect(first.body).toBeInstanceOf(ReadableStream); // read as the client reads
      expect(new Uint8Array(await first.arrayBuffer())).toEqual(weights);
      const etag = first.headers.get('etag') ?? '';
      expect(etag).toMatch(/^"[0-9a-z]+-[0-9a-z]+"$/);
      expect((await get({ 'if-none-match': etag })).status).toBe(304);
      await new Promise((r) => setTimeout(r, 20)); // a later modification time
      await store.put('models/m/weights.bin', weights.slice(1), 'application/octet-stream');
      const again = await get({ 'if-none-match': etag });
      expect(again.status).toBe(200);
      expect(again.headers.get('etag')).not.toBe(etag);
      await again.body?.cancel();
      expect((await serveBlob(store, 'models/none.bin', new Request('http://g/x'))).status).toBe(
        404,
      );
      expect((await serveBlob(store, '../x', new Request('http://g/x'))).status).toBe(404);
    });
});

describe('local blob store', () => {
  it('round-trips bytes under a key and serves them at /blobs/<key>', async () => {
    const store = createLocalStore(mkdtempSync(join(tmpdir(), 'blobs-')));
    const bytes = new Uint8Array([137, 80, 78, 71]);
    expect(await store.put('images/ab/c.png', bytes, 'image/png')).toEqual({
      key: 'images/ab/c.png',
      url: '/blobs/images/ab/c.png',
    });
    expect(await store.get('images/ab/c.png')).toEqual(bytes);
    await store.delete('images/ab/c.png');
    expect(await store.get('images/ab/c.png')).toBeUndefined();
  });

  it('refuses keys that could escape its folder or need escaping', async () => {
    const store = createLocalStore(mkdtempSync(join(tmpdir(), 'blobs-')));
    for (const bad of ['../x.png', 'a/../../x', '/etc/passwd', 'a//b', 'a b.png', '', 'a/./b']) {
      expect(() => assertKey(bad)).toThrow(/invalid blob key/);
    }
    await expect(store.put('../escape.png', new Uint8Array(1), 'image/png')).rejects.toThrow(
      /invalid blob key/,
    );
  });
});

describe('Vercel Blob store', () => {
  it('uses the same key validation and reports keys it has not stored', () => {
    const store = createVercelStore('vercel_blob_rw_fake');
    expect(store.kind).toBe('vercel-blob');
    expect(() => store.urlFor('images/x.png')).toThrow(/put it first/);
    expect(() => store.urlFor('../x')).toThrow(/invalid blob key/);
  });
});
