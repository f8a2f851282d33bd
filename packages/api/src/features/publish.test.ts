import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { openDb } from '@ganstudio/db/client';
import { createLocalStore } from '@ganstudio/storage/local';

import '@tensorflow/tfjs-backend-cpu';

import * as tf from '@tensorflow/tfjs-core';
import { loadLayersModel } from '@tensorflow/tfjs-layers';

import { buildGenerator, DEFAULT_DCGAN_CONFIG } from '@ganstudio/models/gan';
import { artifactsToFiles, modelToArtifacts } from '@ganstudio/models/weights';
import { readRealSet, RunFolder } from '@ganstudio/runs/folder';
import type { BlobStore } from '@ganstudio/storage';

import { listModels } from './models';
import {
  publishEpochModels,
  publishRealSet,
  publishRun,
  publishRunRecord,
  type PublishOptions,
} from './publish';
import { getRun, runCurve } from './runs';

type Db = Parameters<typeof publishRun>[0];
const publication = (dir: string) => new RunFolder(dir).readPublication();
/** A folder as `ganstudio upload` publishes it: read by @ganstudio/runs, registered here. */
const publishFolder = async (db: Db, store: BlobStore, dir: string, options?: PublishOptions) =>
  publishRun(db, store, publication(dir), options);
const publishRecordFolder = async (
  db: Db,
  store: BlobStore,
  dir: string,
  options?: PublishOptions,
) => publishRunRecord(db, store, publication(dir), options);
const publishKeptEpochs = async (
  db: Db,
  store: BlobStore,
  dir: string,
  epochs: 'all' | number[],
  weights?: 'raw' | 'ema',
) =>
  publishEpochModels(
    db,
    store,
    publication(dir),
    new RunFolder(dir).readEpochGenerators(epochs, weights),
  );
const publishRealSetFolder = async (db: Db, dir: string) => publishRealSet(db, readRealSet(dir));

function runFolder(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'pub-')), 'my-run');
  mkdirSync(join(dir, 'samples'), { recursive: true });
  mkdirSync(join(dir, 'generator-uint8'));
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({ epochs: 2, backend: 'wasm', model: { latentDim: 100 } }),
  );
  const lines = Array.from({ length: 30 }, (_, i) =>
    JSON.stringify({
      type: 'step',
      step: i + 1,
      epoch: i < 15 ? 1 : 2,
      d_loss: 1,
      g_loss: 2,
      images_per_sec: 30 + i,
      elapsed_s: 10 * (i + 1),
    }),
  );
  const net = 'cifar10-classifier@0123456789ab';
  const passport = (samples: number, weights: string) => ({
    feature_network: net,
    resize: 'none (32×32)',
    samples,
    reference: { name: 'cifar10', split: 'train', count: 50000, digest: 'sha256:ab' },
    latent_protocol: 'stream batches',
    weights,
    quantization: 'float32',
  });
  lines.unshift(JSON.stringify({ type: 'format', version: 2, epoch_base: 1 }));
  lines.push(
    JSON.stringify({
      type: 'fid',
      step: 15,
      epoch: 1,
      fid: 80,
      is_mean: 2,
      samples: 2000,
      feature_network: net,
      weights: 'raw',
      passport: passport(2000, 'raw'),
    }),
    JSON.stringify({
      type: 'fid',
      step: 30,
      epoch: 2,
      fid: 60,
      is_mean: 3,
      samples: 2000,
      feature_network: net,
      weights: 'raw',
      passport: passport(2000, 'raw'),
    }),
    JSON.stringify({
      type: 'fid',
      step: 30,
      epoch: 2,
      fid: 50,
      is_mean: 3.1,
      samples: 10000,
      feature_network: net,
      weights: 'raw',
      passport: passport(10000, 'raw'),
    }),
  );
  writeFileSync(join(dir, 'metrics.jsonl'), lines.join('\n') + '\n{"type":"st'); // torn last line, as after a crash
  writeFileSync(join(dir, 'samples', 'epoch-0001.png'), new Uint8Array([137, 80, 78, 71]));
  writeFileSync(join(dir, 'samples', 'epoch-0002.png'), new Uint8Array([137, 80, 78, 71]));
  writeFileSync(
    join(dir, 'generator-uint8', 'model.json'),
    JSON.stringify({ weightsManifest: [{ weights: [{ quantization: { dtype: 'uint8' } }] }] }),
  );
  writeFileSync(join(dir, 'generator-uint8', 'weights.bin'), new Uint8Array(100));
  return dir;
}

describe('publishing a run folder', () => {
  it('uploads grids and the generator, then registers the run, its series and the model', async () => {
    const h = await openDb();
    const blobs = mkdtempSync(join(tmpdir(), 'pub-blobs-'));
    const store = createLocalStore(blobs);
    const result = await publishFolder(h.db, store, runFolder(), {
      isDefault: true,
      note: 'smoke',
    });
    expect(result).toMatchObject({ runId: 'my-run', grids: 2, metricPoints: 30, skipped: false });
    expect(await store.get('models/my-run-e2/weights.bin')).toHaveLength(100);
    const run = await getRun(h.db, 'my-run');
    expect(run?.run).toMatchObject({
      epochs: 2,
      backend: 'wasm',
      status: 'finished',
      imagesPerSec: 45,
    });
    // The curve is the periodic protocol's lines (2,000 samples) only, the 10,000-sample final
    // line left out; each point at its step's training clock.
    expect(
      run?.metrics
        .filter((m) => m.fid !== null)
        .map((m) => [m.epoch, m.fid, m.is_mean, m.elapsed_s]),
    ).toEqual([
      [1, 80, 2, 150],
      [2, 60, 3, 300],
    ]);
    expect(runCurve(run!.run)).toEqual({
      passport: {
        feature_network: 'cifar10-classifier@0123456789ab',
        resize: 'none (32×32)',
        samples: 2000,
        reference: { name: 'cifar10', split: 'train', count: 50000, digest: 'sha256:ab' },
        latent_protocol: 'stream batches',
        weights: 'raw',
        quantization: 'float32',
      },
    });
    expect(run?.samples.map((s) => s.url)).toEqual([
      '/blobs/runs/my-run/epoch-0001.png',
      '/blobs/runs/my-run/epoch-0002.png',
    ]);
    const [model] = await listModels(h.db);
    expect(model).toMatchObject({
      id: 'my-run-e2',
      quantization: 'uint8',
      isDefault: true,
      note: 'smoke',
      sizeBytes: expect.any(Number) as unknown,
    });
    // Publishing again updates in place; onlyIfMissing (first-start seeding) leaves the model be,
    // and the run's record too while its folder is unchanged.
    const again = runFolder();
    expect((await publishFolder(h.db, store, again, { onlyIfMissing: true })).skipped).toBe(true);
    const before = await getRun(h.db, 'my-run');
    expect(before?.metrics.find((m) => m.epoch === 2 && m.fid !== null)?.kid).toBeNull();
    // A folder that gained measurements since (a re-bundled run) refreshes the run's record.
    const lines = readFileSync(join(again, 'metrics.jsonl'), 'utf8').replace(
      '"fid":60,',
      '"fid":60,"kid":0.012,"kid_std":0.001,',
    );
    writeFileSync(join(again, 'metrics.jsonl'), lines);
    expect((await publishFolder(h.db, store, again, { onlyIfMissing: true })).skipped).toBe(true);
    const after = await getRun(h.db, 'my-run');
    expect(after?.metrics.find((m) => m.epoch === 2 && m.fid !== null)?.kid).toBeCloseTo(0.012, 6);
    expect(after?.run.name).toBe(before?.run.name);
    expect((await listModels(h.db)).map((m) => m.id)).toEqual(['my-run-e2']);
    await h.close();
  });

  it('refuses folders that are not finished runs, with the reason', async () => {
    const h = await openDb();
    const store = createLocalStore(mkdtempSync(join(tmpdir(), 'pub-blobs-')));
    await expect(publishFolder(h.db, store, tmpdir() + '/nope')).rejects.toThrow(
      /not a run folder/,
    );
    const dir = runFolder();
    rmSync(join(dir, 'generator-uint8'), { recursive: true });
    await expect(publishFolder(h.db, store, dir)).rejects.toThrow(/no exported generator/);
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
    await expect(publishFolder(h.db, store, dir)).rejects.toThrow(
      /weights\.bin: is a symbolic link/,
    );
    const linkedDir = runFolder();
    rmSync(join(linkedDir, 'samples'), { recursive: true });
    symlinkSync(tmpdir(), join(linkedDir, 'samples'));
    await expect(publishFolder(h.db, store, linkedDir)).rejects.toThrow(
      /samples: is a symbolic link/,
    );
    expect(await listModels(h.db)).toEqual([]);
    expect(await store.get('models/my-run-e2/weights.bin')).toBeUndefined();
    await h.close();
  });

  it('--epochs registers each kept epoch as a uint8 model of the run that stock TF.js loads', async () => {
    await tf.setBackend('cpu');
    const h = await openDb();
    const store = createLocalStore(mkdtempSync(join(tmpdir(), 'pub-blobs-')));
    const dir = runFolder();
    for (const epoch of [1, 2]) {
      const g = buildGenerator({ ...DEFAULT_DCGAN_CONFIG, ngf: 2 });
      const files = artifactsToFiles(await modelToArtifacts(g));
      g.dispose();
      const out = join(dir, 'epochs', `epoch-000${epoch}`, 'generator');
      mkdirSync(out, { recursive: true });
      writeFileSync(join(out, 'model.json'), JSON.stringify(files.modelJson));
      writeFileSync(join(out, 'weights.bin'), files.weights);
    }
    await publishFolder(h.db, store, dir);
    const models = await publishKeptEpochs(h.db, store, dir, 'all', 'raw');
    expect(models.map((m) => [m.id, m.epoch, m.runId, m.quantization])).toEqual([
      ['my-run-e1', 1, 'my-run', 'uint8'],
      ['my-run-e2', 2, 'my-run', 'uint8'],
    ]);
    // The stored files are a standard uint8 TF.js model: stock loadLayersModel reads them.
    const json = new TextDecoder().decode(await store.get('models/my-run-e1/model.json'));
    const weights = (await store.get('models/my-run-e1/weights.bin'))!;
    const parsed = JSON.parse(json) as tf.io.ModelJSON;
    expect(parsed.weightsManifest[0]?.weights[0]?.quantization?.dtype).toBe('uint8');
    const loaded = await loadLayersModel(
      tf.io.fromMemory({
        modelTopology: parsed.modelTopology,
        weightSpecs: parsed.weightsManifest[0]?.weights,
        weightData: new Uint8Array(weights).buffer,
      }),
    );
    expect(loaded.outputs[0]!.shape).toEqual([null, 32, 32, 3]);
    loaded.dispose();
    await expect(publishKeptEpochs(h.db, store, dir, [3])).rejects.toThrow(
      /epoch 3 not kept in epochs\/ \(kept: 1, 2\)/,
    );
    await h.close();
  });

  it('registers a real-image set once, each image an uncompressed PNG of one fixed size', async () => {
    const h = await openDb();
    const dir = mkdtempSync(join(tmpdir(), 'real-set-'));
    writeFileSync(
      join(dir, 'real-set.json'),
      JSON.stringify({ id: 'tiny-set', name: 'tiny', source: 'test', count: 3, labels: [1, 2, 3] }),
    );
    writeFileSync(
      join(dir, 'images.bin'),
      new Uint8Array(3 * 3072).map((_, i) => (i * 31) % 256),
    );
    expect(await publishRealSetFolder(h.db, dir)).toEqual({
      id: 'tiny-set',
      count: 3,
      inserted: true,
    });
    expect((await publishRealSetFolder(h.db, dir)).inserted).toBe(false);
    writeFileSync(join(dir, 'images.bin'), new Uint8Array(100));
    await expect(publishRealSetFolder(h.db, dir)).rejects.toThrow(/not a real-image set/);
    await h.close();
  });

  it('registers a reference run without a generator (grids and curves for /runs/compare), once', async () => {
    const h = await openDb();
    const store = createLocalStore(mkdtempSync(join(tmpdir(), 'pub-blobs-')));
    const dir = runFolder();
    rmSync(join(dir, 'generator-uint8'), { recursive: true });
    expect(await publishRecordFolder(h.db, store, dir, { name: 'reference' })).toMatchObject({
      runId: 'my-run',
      grids: 2,
      skipped: false,
    });
    const run = await getRun(h.db, 'my-run');
    expect(run?.run.name).toBe('reference');
    expect(run?.models).toEqual([]);
    expect(run?.metrics.filter((m) => m.fid !== null)).toHaveLength(2);
    expect((await publishRecordFolder(h.db, store, dir, { onlyIfMissing: true })).skipped).toBe(
      true,
    );
    await h.close();
  });

  it('lines with passports: the curve is one passport, with KID, precision/recall, copies and its scale', async () => {
    const h = await openDb();
    const dir = runFolder();
    const passport = {
      feature_network: 'cifar10-classifier@0123456789ab',
      resize: 'none (32×32)',
      samples: 2000,
      reference: {
        name: 'cifar10',
        split: 'train',
        count: 50000,
        digest: 'sha256:0011223344556677',
      },
      latent_protocol: 'stream batches',
      weights: 'ema',
      quantization: 'float32',
    };
    const point = { fid: 1, kid: 0.0001, kid_std: 0.0001, precision: 0.8, recall: 0.8 };
    const extra = [
      {
        type: 'scale',
        step: 0,
        epoch: 0,
        floor: point,
        ceiling: { ...point, fid: 30, kid: 0.3 },
        passport,
      },
      {
        type: 'fid',
        step: 15,
        epoch: 1,
        fid: 9,
        samples: 2000,
        feature_network: passport.feature_network,
        weights: 'ema',
        kid: 0.02,
        kid_std: 0.001,
        precision: 0.7,
        recall: 0.2,
        passport,
      },
      {
        type: 'fid',
        step: 30,
        epoch: 2,
        fid: 7,
        samples: 2000,
        feature_network: passport.feature_network,
        weights: 'ema',
        kid: 0.015,
        kid_std: 0.001,
        precision: 0.75,
        recall: 0.3,
        copies: 0.001,
        passport,
      },
      {
        type: 'fid',
        step: 30,
        epoch: 2,
        fid: 8,
        samples: 2000,
        feature_network: passport.feature_network,
        weights: 'raw',
        kid: 0.018,
        kid_std: 0.001,
        precision: 0.7,
        recall: 0.3,
        passport: { ...passport, weights: 'raw' },
      },
    ];
    // The fixture's own FID lines and torn last line make way for these.
    const kept = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.endsWith('}') && !l.includes('"type":"fid"'));
    writeFileSync(
      join(dir, 'metrics.jsonl'),
      [...kept, ...extra.map((l) => JSON.stringify(l))].join('\n') + '\n',
    );
    await publishFolder(h.db, createLocalStore(mkdtempSync(join(tmpdir(), 'pub-blobs-'))), dir);
    const run = await getRun(h.db, 'my-run');
    // Two passports: the EMA's (2 lines) is the curve; the raw line at epoch 2 is left out.
    const curve = run?.metrics.filter((m) => m.fid !== null);
    expect(curve?.map((m) => [m.fid, m.kid, m.kid_std, m.precision, m.recall, m.copies])).toEqual([
      [9, 0.02, 0.001, 0.7, 0.2, null],
      [7, 0.015, 0.001, 0.75, 0.3, 0.001],
    ]);
    expect(runCurve(run!.run)).toMatchObject({
      passport,
      floor: point,
      ceiling: { fid: 30, kid: 0.3 },
    });
  });
});
