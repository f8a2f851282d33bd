import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DbHandle } from './client';
import { castVote, DbError, getImage, getRun, insertImage, insertModel, listImages, listModels, upsertRun } from './queries';
import { testDrivers } from './testing';

const drivers = await testDrivers();

describe.each(drivers)('queries on $name', ({ open }) => {
  let h: DbHandle;
  beforeAll(async () => {
    h = await open();
    await upsertRun(
      h.db,
      { id: 'run1', name: 'smoke', config: { epochs: 2 }, status: 'finished', backend: 'wasm', imagesPerSec: 30, epochs: 2 },
      [{ epoch: 1, url: '/blobs/runs/run1/epoch-0001.png' }],
      [{ step: 10, epoch: 0, dLoss: 1.2, gLoss: 0.8 }],
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
      await insertImage(h.db, { id: `img${i}`, modelId: 'm1', seed: i, pngUrl: `/blobs/i/${i}.png`, pngKey: `i/${i}.png`, createdAt: new Date(Date.UTC(2026, 0, 1, 0, i)) });
    }
  });
  afterAll(() => h.close());

  it('migrates, stores runs with their grids and metrics, and lists the default model first', async () => {
    const run = await getRun(h.db, 'run1');
    expect(run?.samples).toEqual([{ runId: 'run1', epoch: 1, url: '/blobs/runs/run1/epoch-0001.png' }]);
    expect(run?.metrics[0]).toMatchObject({ step: 10, dLoss: 1.2 });
    await insertModel(h.db, { id: 'm2', name: 'newer', epoch: 1, quantization: 'float16', modelJsonUrl: 'u', modelKey: 'k', sizeBytes: 1, latentDim: 100 });
    expect((await listModels(h.db)).map((m) => m.id)).toEqual(['m1', 'm2']);
  });

  it('publishing the same model and seed twice returns the first image', async () => {
    const again = await insertImage(h.db, { id: 'other', modelId: 'm1', seed: 3, pngUrl: 'x', pngKey: 'x' });
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
    await Promise.all(voters.flatMap((v) => [castVote(h.db, 'img1', v, 1), castVote(h.db, 'img1', v, -1)]));
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
    const topPage = await listImages(h.db, 'top', (await listImages(h.db, 'top', null, 1)).nextCursor, 1);
    expect(topPage.items[0]!.id).toBe(top.items[1]!.id);
    await expect(listImages(h.db, 'new', 'garbage', 2)).rejects.toThrow(/cursor is not one this list issued/);
    await expect(listImages(h.db, 'top', first.nextCursor, 2)).rejects.toThrow(DbError);
  });

  it('treats SQL-looking input as data', async () => {
    expect(await getImage(h.db, "img0' or '1'='1")).toBeUndefined();
  });
});
