import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { assertKey } from './index';
import { createLocalStore } from './local';
import { createVercelStore } from './vercel';

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
