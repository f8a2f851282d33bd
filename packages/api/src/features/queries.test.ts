import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { DbHandle } from '@ganstudio/db/client';
import { rateLimits } from '@ganstudio/db/schema';
import { testDrivers } from '@ganstudio/db/testing';

import { DbError } from '../http';
import { takeTokens } from '../rate-limit';
import { listImages } from './image-list';
import { getImage, insertImage } from './images';
import { insertModel, listModels } from './models';
import { getRun, upsertRun } from './runs';
import { castVote } from './votes';

const drivers = await testDrivers();

describe.each(drivers)('queries on $name', ({ open }) => {
  let h: DbHandle;
  beforeAll(async () => {
    h = await open();
    await upsertRun(
      h.db,
      {
        id: 'run1',
        name: 'smoke',
        config: { epochs: 2 },
        status: 'finished',
        backend: 'wasm',
        imagesPerSec: 30,
        epochs: 2,
      },
      [{ epoch: 1, url: '/blobs/runs/run1/epoch-0001.png' }],
      [{ step: 10, epoch: 0, d_loss: 1.2, g_loss: 0.8 }],
    );
    await insertModel(h.db, {
      id: 'm1',
      runId: 'run1',
      name: 'dcgan',
      epoch: 2,
      quantization: 'uint8',
      modelJsonUrl: '/blobs/models/m1/model.json',
      modelKey: 'models/m1/model.json',
      sizeBytes: 1000,
      latentDim: 100,
      isDefault: true,
    });
    for (let i = 0; i < 5; i++) {
      await insertImage(h.db, {
        id: `img${i}`,
        modelId: 'm1',
        seed: i,
        pngUrl: `/blobs/i/${i}.png`,
        pngKey: `i/${i}.png`,
        createdAt: new Date(Date.UTC(2026, 0, 1, 0, i)),
      });
    }
  });
  afterAll(() => h.close());

  it('migrates, stores runs with their grids and metrics, and lists the default model first', async () => {
    const run = await getRun(h.db, 'run1');
    expect(run?.samples).toEqual([
      { runId: 'run1', epoch: 1, url: '/blobs/runs/run1/epoch-0001.png' },
    ]);
    expect(run?.metrics[0]).toMatchObject({ step: 10, d_loss: 1.2 });
    await insertModel(h.db, {
      id: 'm2',
      name: 'newer',
      epoch: 1,
      quantization: 'float16',
      modelJsonUrl: 'u',
      modelKey: 'k',
      sizeBytes: 1,
      latentDim: 100,
    });
    expect((await listModels(h.db)).map((m) => m.id)).toEqual(['m1', 'm2']);
  });

  it('publishing the same model and seed twice returns the first image', async () => {
    const again = await insertImage(h.db, {
      id: 'other',
      modelId: 'm1',
      seed: 3,
      pngUrl: 'x',
      pngKey: 'x',
    });
    expect(again.id).toBe('img3');
  });

  it('keeps score = sum of votes through changes, withdrawals and repeats', async () => {
    expect(await castVote(h.db, 'img0', 'alice', 1)).toEqual({ score: 1, vote: 1 });
    expect((await castVote(h.db, 'img0', 'alice', 1)).score).toBe(1); // repeated: still one vote
    expect((await castVote(h.db, 'img0', 'bob', -1)).score).toBe(0);
    expect((await castVote(h.db, 'img0', 'alice', -1)).score).toBe(-2); // changed
    expect((await castVote(h.db, 'img0', 'bob', 0)).score).toBe(-1); // withdrawn
    await expect(castVote(h.db, 'nope', 'alice', 1)).rejects.toThrow(DbError);
  });

  it('counts concurrent, conflicting votes exactly', async () => {
    const voters = Array.from({ length: 20 }, (_, i) => `v${i}`);
    // Every voter votes +1, −1 and +1 again at once; the last write per voter wins, whatever the order.
    await Promise.all(
      voters.flatMap((v) => [castVote(h.db, 'img1', v, 1), castVote(h.db, 'img1', v, -1)]),
    );
    await Promise.all(voters.map((v) => castVote(h.db, 'img1', v, 1)));
    expect((await getImage(h.db, 'img1'))?.score).toBe(20);
  });

  it('pages newest-first and top-first with opaque cursors', async () => {
    const first = await listImages(h.db, 'new', null, 2);
    expect(first.items.map((i) => i.id)).toEqual(['img4', 'img3']);
    const second = await listImages(h.db, 'new', first.nextCursor, 2);
    expect(second.items.map((i) => i.id)).toEqual(['img2', 'img1']);
    const third = await listImages(h.db, 'new', second.nextCursor, 2);
    expect(third.items.map((i) => i.id)).toEqual(['img0']);
    expect(third.nextCursor).toBeNull();
    const top = await listImages(h.db, 'top', null, 10);
    expect(top.items[0]!.id).toBe('img1');
    expect(top.items[top.items.length - 1]!.id).toBe('img0');
    const topPage = await listImages(
      h.db,
      'top',
      (await listImages(h.db, 'top', null, 1)).nextCursor,
      1,
    );
    expect(topPage.items[0]!.id).toBe(top.items[1]!.id);
    await expect(listImages(h.db, 'new', 'garbage', 2)).rejects.toThrow(
      /cursor is not one this list issued/,
    );
    await expect(listImages(h.db, 'top', first.nextCursor, 2)).rejects.toThrow(DbError);
  });

  it('refuses cursors that decode to non-dates or odd ids with bad_cursor, not a database error', async () => {
    const forge = (parts: unknown) =>
      btoa(JSON.stringify(parts)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    for (const [sort, parts] of [
      ['new', ['not a date', 'img1']],
      ['new', ['2026-01-01T00:00:00.000Z', "x' or 1=1"]],
      ['top', [1.5, '2026-01-01T00:00:00.000Z', 'img1']],
      ['top', [1, 'yesterday-ish', 'img1']],
    ] as const) {
      await expect(listImages(h.db, sort, forge(parts), 2)).rejects.toMatchObject({
        code: 'bad_cursor',
      });
    }
  });

  it('caps the voters one address has on one image; changing or withdrawing stays allowed', async () => {
    const from = { addr: 'net-a', cap: 3 };
    for (const v of ['a1', 'a2', 'a3']) await castVote(h.db, 'img2', v, 1, from);
    await expect(castVote(h.db, 'img2', 'a4', 1, from)).rejects.toMatchObject({
      code: 'address_cap',
    });
    expect((await getImage(h.db, 'img2'))?.score).toBe(3);
    expect((await castVote(h.db, 'img2', 'a1', -1, from)).score).toBe(1); // a known voter may change
    expect((await castVote(h.db, 'img2', 'b1', 1, { addr: 'net-b', cap: 3 })).score).toBe(2); // another network
    expect((await castVote(h.db, 'img2', 'a2', 0, from)).score).toBe(1); // withdrawn: a seat is free again
    expect((await castVote(h.db, 'img2', 'a4', 1, from)).score).toBe(2);
    // Many identities at once from one address: still at most the cap.
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        castVote(h.db, 'img3', `c${i}`, 1, { addr: 'net-c', cap: 3 }).catch(() => undefined),
      ),
    );
    expect((await getImage(h.db, 'img3'))?.score).toBe(3);
  });

  it('shared token buckets: all or none, refilled over time, wait in seconds', async () => {
    const ip = { key: 'test:ip', limit: 2, windowMs: 60_000 };
    const visitor = { key: 'test:visitor', limit: 5, windowMs: 60_000 };
    expect(await takeTokens(h.db, [ip, visitor])).toBe(0);
    expect(await takeTokens(h.db, [ip, visitor])).toBe(0);
    const wait = await takeTokens(h.db, [ip, visitor]);
    expect(wait).toBeGreaterThanOrEqual(29);
    expect(wait).toBeLessThanOrEqual(30);
    // The refused call took nothing from the visitor's bucket: 3 of 5 are left.
    for (let i = 0; i < 3; i++) expect(await takeTokens(h.db, [visitor])).toBe(0);
    expect(await takeTokens(h.db, [visitor])).toBeGreaterThan(0);
    const fast = { key: 'test:fast', limit: 1, windowMs: 200 };
    expect(await takeTokens(h.db, [fast])).toBe(0);
    expect(await takeTokens(h.db, [fast])).toBe(1);
    await new Promise((r) => setTimeout(r, 250));
    expect(await takeTokens(h.db, [fast])).toBe(0);
    // Concurrent takers never overspend: 10 at once on a bucket of 4.
    const burst = { key: 'test:burst', limit: 4, windowMs: 3_600_000 };
    const results = await Promise.all(Array.from({ length: 10 }, () => takeTokens(h.db, [burst])));
    expect(results.filter((w) => w === 0)).toHaveLength(4);
  });

  it('day-old buckets are dropped a few per take from the time index, never by a scan', async () => {
    const old = new Date(Date.now() - 2 * 86_400_000);
    await h.db
      .insert(rateLimits)
      .values(Array.from({ length: 100 }, (_, i) => ({ key: `stale:${i}`, tokens: 1, at: old })));
    const stale = async () =>
      (await h.db.select().from(rateLimits)).filter((r) => r.key.startsWith('stale:')).length;
    await takeTokens(h.db, [{ key: 'test:evict', limit: 1000, windowMs: 60_000 }]);
    expect(await stale()).toBe(96);
    for (let i = 0; i < 25; i++)
      await takeTokens(h.db, [{ key: 'test:evict', limit: 1000, windowMs: 60_000 }]);
    expect(await stale()).toBe(0);
    // A bucket in use is never dropped.
    expect((await h.db.select().from(rateLimits)).some((r) => r.key === 'test:evict')).toBe(true);
  });

  it('treats SQL-looking input as data', async () => {
    expect(await getImage(h.db, "img0' or '1'='1")).toBeUndefined();
  });
});
