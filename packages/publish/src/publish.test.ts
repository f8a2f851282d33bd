import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb } from '@ganstudio/db/client';
import { getRun, listModels } from '@ganstudio/db/queries';
import { createLocalStore } from '@ganstudio/storage/local';
import { publishRunFolder } from './index';

function runFolder(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'pub-')), 'my-run');
  mkdirSync(join(dir, 'samples'), { recursive: true });
  mkdirSync(join(dir, 'generator-uint8'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ epochs: 2, backend: 'wasm', model: { latentDim: 100 } }));
  const lines = Array.from({ length: 30 }, (_, i) => JSON.stringify({ type: 'step', step: i + 1, epoch: i < 15 ? 0 : 1, d_loss: 1, g_loss: 2, images_per_sec: 30 + i }));
  const net = 'cifar10-classifier@0123456789ab';
  lines.push(
    JSON.stringify({ type: 'fid', step: 15, epoch: 1, fid: 80, is_mean: 2, samples: 2000, feature_network: net, weights: 'raw' }),
    JSON.stringify({ type: 'fid', step: 30, epoch: 2, fid: 60, is_mean: 3, samples: 2000, feature_network: net, weights: 'raw' }),
    JSON.stringify({ type: 'fid', step: 30, epoch: 2, fid: 50, is_mean: 3.1, samples: 10000, feature_network: net }),
  );
  writeFileSync(join(dir, 'metrics.jsonl'), lines.join('\n') + '\n{"type":"st'); // torn last line, as after a crash
  writeFileSync(join(dir, 'samples', 'epoch-0001.png'), new Uint8Array([137, 80, 78, 71]));
  writeFileSync(join(dir, 'samples', 'epoch-0002.png'), new Uint8Array([137, 80, 78, 71]));
  writeFileSync(join(dir, 'generator-uint8', 'model.json'), JSON.stringify({ weightsManifest: [{ weights: [{ quantization: { dtype: 'uint8' } }] }] }));
  writeFileSync(join(dir, 'generator-uint8', 'weights.bin'), new Uint8Array(100));
  return dir;
}

describe('publishRunFolder', () => {
  it('uploads grids and the generator, then registers the run, its series and the model', async () => {
    const h = await openDb();
    const blobs = mkdtempSync(join(tmpdir(), 'pub-blobs-'));
    const store = createLocalStore(blobs);
    const result = await publishRunFolder(h.db, store, runFolder(), { isDefault: true, note: 'smoke' });
    expect(result).toMatchObject({ runId: 'my-run', grids: 2, metricPoints: 30, skipped: false });
    expect(await store.get('models/my-run-e2/weights.bin')).toHaveLength(100);
    const run = await getRun(h.db, 'my-run');
    expect(run?.run).toMatchObject({ epochs: 2, backend: 'wasm', status: 'finished', imagesPerSec: 45 });
    // The FID curve is the periodic protocol (2,000 samples) only, labelled with its network and weights.
    expect(run?.metrics.filter((m) => m.fid !== null).map((m) => [m.epoch + 1, m.fid, m.isScore])).toEqual([
      [1, 80, 2],
      [2, 60, 3],
    ]);
    expect((run?.run.config as { fid_protocol: unknown }).fid_protocol).toEqual({
      feature_network: 'cifar10-classifier@0123456789ab',
      samples: 2000,
      weights: 'raw',
    });
    expect(run?.samples.map((s) => s.url)).toEqual(['/blobs/runs/my-run/epoch-0001.png', '/blobs/runs/my-run/epoch-0002.png']);
    const [model] = await listModels(h.db);
    expect(model).toMatchObject({ id: 'my-run-e2', quantization: 'uint8', isDefault: true, note: 'smoke', sizeBytes: expect.any(Number) });
    // Publishing again updates in place; onlyIfMissing (first-start seeding) does nothing.
    expect((await publishRunFolder(h.db, store, runFolder(), { onlyIfMissing: true })).skipped).toBe(true);
    await h.close();
  });

  it('refuses folders that are not finished runs, with the reason', async () => {
    const h = await openDb();
    const store = createLocalStore(mkdtempSync(join(tmpdir(), 'pub-blobs-')));
    await expect(publishRunFolder(h.db, store, tmpdir() + '/nope')).rejects.toThrow(/not a run folder/);
    const dir = runFolder();
    rmSync(join(dir, 'generator-uint8'), { recursive: true });
    await expect(publishRunFolder(h.db, store, dir)).rejects.toThrow(/no exported generator/);
    expect(await listModels(h.db)).toEqual([]);
    await h.close();
  });

  it('refuses a run folder with a symlink in it and uploads nothing', async () => {
    const h = await openDb();
    const blobs = mkdtempSync(join(tmpdir(), 'pub-blobs-'));
    const store = createLocalStore(blobs);
    const secret = join(mkdtempSync(join(tmpdir(), 'pub-secret-')), 'id_ed25519');
    writeFileSync(secret, 'PRIVATE KEY');
    const dir = runFolder();
    rmSync(join(dir, 'generator-uint8', 'weights.bin'));
    symlinkSync(secret, join(dir, 'generator-uint8', 'weights.bin'));
    await expect(publishRunFolder(h.db, store, dir)).rejects.toThrow(/weights\.bin: is a symbolic link/);
    const linkedDir = runFolder();
    rmSync(join(linkedDir, 'samples'), { recursive: true });
    symlinkSync(tmpdir(), join(linkedDir, 'samples'));
    await expect(publishRunFolder(h.db, store, linkedDir)).rejects.toThrow(/samples: is a symbolic link/);
    expect(await listModels(h.db)).toEqual([]);
    expect(await store.get('models/my-run-e2/weights.bin')).toBeUndefined();
    await h.close();
  });
});
