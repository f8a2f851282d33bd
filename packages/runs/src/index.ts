/**
 * Publishing a run folder (as the trainer writes it, or the trimmed copy bundled with the web app):
 *   config.json, metrics.jsonl, samples/epoch-NNNN.png, generator-uint8/{model.json, weights.bin}
 * Blobs are uploaded first, then the rows are written, so no row points at a missing file.
 * Uploading the same folder again updates it in place (ids derive from the folder).
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync as readFileFollowing } from 'node:fs';
import { basename, join } from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';

import { insertRealSet, realSetExists } from '@ganstudio/api/features/judge';
import { getModel, insertModel, setModelMetrics } from '@ganstudio/api/features/models';
import { getRun, runExists, upsertRun } from '@ganstudio/api/features/runs';
import type { Db } from '@ganstudio/db/client';
import { isId, toId, type Model, type ModelMetrics } from '@ganstudio/db/schema';
import { encodePng } from '@ganstudio/models/image';
import type { Passport } from '@ganstudio/models/passport';
import { artifactsToFiles, quantizeArtifacts } from '@ganstudio/models/weights';
import type { BlobStore } from '@ganstudio/storage';

import {
  isFid,
  isScale,
  isStep,
  recordPassport,
  RunFolder,
  RunFolderError,
  withoutMachinePaths,
  type MetricRecord,
  type StepRecord,
} from './folder';

export { RunFolderError };

export interface UploadOptions {
  /** Run id (default: the folder name, sanitised). */
  runId?: string;
  name?: string;
  /** Make this the gallery's default model. */
  isDefault?: boolean;
  /** A line shown with the model (e.g. "best trained so far: 1 epoch"). */
  note?: string;
  /** Skip everything if a model with this id already exists (first-start seeding). */
  onlyIfMissing?: boolean;
  log?: (line: string) => void;
}

export interface UploadResult {
  runId: string;
  model: Model;
  grids: number;
  metricPoints: number;
  skipped: boolean;
}

/**
 * Reads a file of the run folder, refusing symlinks: a link planted in a run folder (or in the
 * bundled run of a cloned repository) would otherwise upload whatever file it points at, such as
 * ~/.ssh/id_ed25519 as weights.bin, to a public blob store.
 */
function readFileSync(path: string): Buffer;
function readFileSync(path: string, encoding: 'utf8'): string;
function readFileSync(path: string, encoding?: 'utf8'): Buffer | string {
  refuseSymlink(path);
  return encoding ? readFileFollowing(path, encoding) : readFileFollowing(path);
}

function refuseSymlink(path: string): void {
  let link = false;
  try {
    link = lstatSync(path).isSymbolicLink();
  } catch {
    return; // a missing file is reported by the read itself
  }
  if (link)
    throw new RunFolderError(
      `${path}: is a symbolic link; upload reads only regular files of the run folder`,
    );
}

/** At most this many metric rows per run: charts need shape, not every step. */
const MAX_POINTS = 2000;

/** z's length and the image side of a run's generator, from its config.json. */
/** What the gallery needs of a run's model: z's length, the image side and, if conditional, the classes. */
function modelShape(config: Record<string, unknown>) {
  const model = config['model'] as
    { latentDim?: number; resolution?: number; classes?: number } | undefined;
  const names = config['classNames'];
  const classes =
    model?.classes && Array.isArray(names) && names.length === model.classes
      ? names.map(String)
      : model?.classes
        ? Array.from({ length: model.classes }, (_, i) => String(i))
        : null;
  return { latentDim: model?.latentDim ?? 100, resolution: model?.resolution ?? 32, classes };
}

function readJson(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new RunFolderError(
      `${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'not valid JSON'}`,
    );
  }
}

interface RunRecord {
  dir: string;
  runId: string;
  config: Record<string, unknown>;
  lines: MetricRecord[];
  steps: StepRecord[];
  epochs: number;
}

function readRunRecord(dir: string, options: UploadOptions): RunRecord {
  const run = new RunFolder(dir);
  refuseSymlink(run.path('metrics'));
  // What the gallery stores and serves never names a folder of this machine.
  const config = withoutMachinePaths(run.readConfig<Record<string, unknown>>());
  const runId = toId(options.runId ?? basename(dir));
  const lines = withoutMachinePaths(run.readMetrics());
  const steps = lines.filter(isStep);
  const epochs = steps.length
    ? Math.max(...steps.map((s) => s.epoch))
    : Number(config['epochs'] ?? 0);
  return { dir, runId, config, lines, steps, epochs };
}

/**
 * The published weights' own measurement: the last measurement line at the model's epoch whose
 * passport says these weights' quantization (`eval --model …/generator-uint8 --json` of the
 * export, appended to the run's metrics.jsonl); {} when the run has none.
 */
function ownMeasurement(record: RunRecord, quantization: string): ModelMetrics {
  const own = record.lines
    .filter(isFid)
    .filter((l) => l.epoch === record.epochs && l.passport?.quantization === quantization)
    .at(-1);
  if (!own?.passport) return {};
  const { fid, is_mean, kid, kid_std, precision, recall, copies, class_fidelity, passport } = own;
  return Object.fromEntries(
    Object.entries({
      fid,
      is_mean,
      kid,
      kid_std,
      precision,
      recall,
      copies,
      class_fidelity,
      passport,
    }).filter(([, v]) => v !== undefined),
  );
}

/** What a run's record was registered from: its config and lines, digested. */
const recordDigest = (record: RunRecord): string =>
  createHash('sha256')
    .update(JSON.stringify({ config: record.config, lines: record.lines }))
    .digest('hex')
    .slice(0, 16);

/**
 * A run already registered (a gallery's later starts) is registered again when its folder's
 * config or lines changed since, so a bundled run that gains measurements (KID, a scale line)
 * shows them in an existing gallery without touching its model, images or votes.
 */
async function refreshIfChanged(
  db: Db,
  store: BlobStore,
  record: RunRecord,
  options: UploadOptions,
): Promise<boolean> {
  const registered = await getRun(db, record.runId);
  const digest = (registered?.run.config as { record_digest?: string } | undefined)?.record_digest;
  if (!registered || digest === recordDigest(record)) return false;
  await registerRun(db, store, record, { ...options, name: options.name ?? registered.run.name });
  options.log?.(`refreshed run ${record.runId}: its folder changed since it was registered`);
  return true;
}

/** Uploads a run's grids and registers the run with its metric series (losses, FID, training clock). */
async function registerRun(db: Db, store: BlobStore, record: RunRecord, options: UploadOptions) {
  const { dir, runId, config, lines, steps, epochs } = record;
  const samples: { epoch: number; url: string }[] = [];
  for (const { epoch, file } of new RunFolder(dir).sampleGrids()) {
    const bytes = readFileSync(new RunFolder(dir).path('samples', file));
    const { url } = await store.put(`runs/${runId}/${file}`, bytes, 'image/png');
    samples.push({ epoch, url });
  }
  const stride = Math.max(1, Math.ceil(steps.length / MAX_POINTS));
  /** One point of the run's series: losses where a step line was logged, FID/IS where measured. */
  interface Point {
    step: number;
    epoch: number;
    dLoss: number | null;
    gLoss: number | null;
    fid: number | null;
    isScore: number | null;
    classFidelity: number | null;
    kid: number | null;
    kidStd: number | null;
    precision: number | null;
    recall: number | null;
    copies: number | null;
    elapsedS: number | null;
  }
  const unmeasured = {
    fid: null,
    isScore: null,
    classFidelity: null,
    kid: null,
    kidStd: null,
    precision: null,
    recall: null,
    copies: null,
  };
  const byStep = new Map<number, Point>(
    steps
      .filter((_, i) => i % stride === 0 || i === steps.length - 1)
      .map((s): [number, Point] => [
        s.step,
        {
          step: s.step,
          epoch: s.epoch,
          // Lines of older runs may lack a field their type promises.
          dLoss: (s.d_loss as number | undefined) ?? null,
          gLoss: (s.g_loss as number | undefined) ?? null,
          ...unmeasured,
          elapsedS: (s.elapsed_s as number | undefined) ?? null,
        },
      ]),
  );
  /** Training seconds at `step`: the last logged step line at or before it (FID lines carry none). */
  const elapsedAt = (step: number) => {
    let at: number | null = null;
    for (const s of steps) if (s.step <= step && s.elapsed_s !== undefined) at = s.elapsed_s;
    return at;
  };
  // The quality curve is the lines of one passport, the most common (the trainer's periodic
  // protocol): a 10,000-sample final FID is not comparable with 2,000-sample points and would make
  // a false dip. Lines older than passports get one from their own fields.
  const { resolution, classes } = modelShape(config);
  const fidLines = lines.filter(isFid).map((l) => ({
    line: l,
    passport: recordPassport(l, resolution, classes !== null),
  }));
  const keyOf = (p: Passport) => JSON.stringify(p);
  const counts = new Map<string, number>();
  for (const { passport } of fidLines)
    counts.set(keyOf(passport), (counts.get(keyOf(passport)) ?? 0) + 1);
  const protocolKey = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
  const protocol = fidLines.filter((l) => keyOf(l.passport) === protocolKey);
  for (const { line: l } of protocol) {
    const point = byStep.get(l.step) ?? {
      step: l.step,
      epoch: l.epoch,
      dLoss: null,
      gLoss: null,
      ...unmeasured,
      elapsedS: elapsedAt(l.step),
    };
    byStep.set(l.step, {
      ...point,
      fid: l.fid,
      isScore: l.is_mean ?? null,
      classFidelity: l.class_fidelity ?? null,
      kid: l.kid ?? null,
      kidStd: l.kid_std ?? null,
      precision: l.precision ?? null,
      recall: l.recall ?? null,
      copies: l.copies ?? null,
    });
  }
  const metrics = [...byStep.values()].sort((a, b) => a.step - b.step);
  const first = protocol[0];
  // The floor (real test images) and ceiling (noise) on the curve's passport, when measured.
  const scale = lines
    .filter(isScale)
    .reverse()
    .find((l) => first && keyOf(l.passport) === keyOf(first.passport));
  const fidProtocol = first
    ? {
        feature_network: first.line.feature_network ?? 'unknown',
        samples: first.passport.samples,
        ...(first.line.weights ? { weights: first.line.weights } : {}),
        ...(first.line.reference ? { reference: first.line.reference } : {}),
        passport: first.passport,
        ...(scale ? { floor: scale.floor, ceiling: scale.ceiling } : {}),
      }
    : undefined;
  const speeds = steps
    .map((s) => s.images_per_sec ?? NaN)
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  await upsertRun(
    db,
    {
      id: runId,
      name: options.name ?? runId,
      config: {
        ...config,
        ...(fidProtocol ? { fid_protocol: fidProtocol } : {}),
        record_digest: recordDigest(record),
      },
      status: 'finished',
      backend: typeof config['backend'] === 'string' ? config['backend'] : 'unknown',
      imagesPerSec: speeds[Math.floor(speeds.length / 2)] ?? null,
      epochs,
    },
    samples,
    metrics,
  );
  return { samples, metrics };
}

export async function uploadRun(
  db: Db,
  store: BlobStore,
  dir: string,
  options: UploadOptions = {},
): Promise<UploadResult> {
  const run = new RunFolder(dir);
  const log = options.log ?? (() => {});
  for (const path of [dir, run.path('export'), run.path('samples')]) refuseSymlink(path);
  if (!existsSync(run.path('config')))
    throw new RunFolderError(`${dir}: not a run folder (no config.json)`);
  const generatorDir = run.path('export');
  if (!existsSync(join(generatorDir, 'model.json'))) {
    throw new RunFolderError(
      `${dir}: no exported generator (generator-uint8/model.json); finish or export the run first`,
    );
  }
  const modelJson = withoutMachinePaths(
    JSON.parse(readFileSync(join(generatorDir, 'model.json'), 'utf8')) as unknown,
  ) as {
    modelTopology?: unknown;
    weightsManifest?: { weights: { quantization?: { dtype: string } }[] }[];
    userDefinedMetadata?: { step?: number };
  };
  const modelJsonBytes = new TextEncoder().encode(JSON.stringify(modelJson));
  const record = readRunRecord(dir, options);
  const { runId, epochs, config } = record;
  const modelId = `${runId}-e${epochs}`.slice(0, 64);
  const existing = options.onlyIfMissing ? await getModel(db, modelId) : undefined;
  if (existing) {
    if (await refreshIfChanged(db, store, record, options))
      await setModelMetrics(db, modelId, ownMeasurement(record, existing.quantization));
    return {
      runId,
      model: existing,
      grids: 0,
      metricPoints: 0,
      skipped: true,
    };
  }
  const { samples, metrics } = await registerRun(db, store, record, options);
  const weights = readFileSync(join(generatorDir, 'weights.bin'));
  const modelKey = `models/${modelId}/model.json`;
  const { url: modelJsonUrl } = await store.put(modelKey, modelJsonBytes, 'application/json');
  await store.put(`models/${modelId}/weights.bin`, weights, 'application/octet-stream');
  log(
    `uploaded ${samples.length} grids and the generator (${(weights.byteLength / 1024).toFixed(0)} KiB) to ${store.kind}`,
  );
  const { latentDim: dims, resolution, classes } = modelShape(config);
  const quant = modelJson.weightsManifest?.[0]?.weights[0]?.quantization?.dtype ?? 'float32';
  const model = await insertModel(db, {
    id: modelId,
    runId,
    name: options.name ?? `${runId} · epoch ${epochs}`,
    epoch: epochs,
    quantization: quant as 'uint8' | 'float16' | 'float32',
    modelJsonUrl,
    modelKey,
    sizeBytes: modelJsonBytes.byteLength + weights.byteLength,
    latentDim: dims,
    resolution,
    classes,
    metrics: ownMeasurement(record, quant),
    note: options.note ?? null,
    isDefault: options.isDefault ?? false,
  });
  log(
    `registered run ${runId} (${samples.length} grids, ${metrics.length} metric points) and model ${modelId}`,
  );
  return { runId, model, grids: samples.length, metricPoints: metrics.length, skipped: false };
}

/**
 * A run's record without a model (`config.json`, `metrics.jsonl`, `samples/`): the grids and
 * curves of a run kept for comparison (/runs/compare) whose generator is not published.
 */
export async function uploadRunRecord(
  db: Db,
  store: BlobStore,
  dir: string,
  options: UploadOptions = {},
): Promise<{ runId: string; grids: number; metricPoints: number; skipped: boolean }> {
  const run = new RunFolder(dir);
  for (const path of [dir, run.path('samples')]) refuseSymlink(path);
  if (!existsSync(run.path('config')))
    throw new RunFolderError(`${dir}: not a run folder (no config.json)`);
  const record = readRunRecord(dir, options);
  if (options.onlyIfMissing && (await runExists(db, record.runId))) {
    await refreshIfChanged(db, store, record, options);
    return { runId: record.runId, grids: 0, metricPoints: 0, skipped: true };
  }
  const { samples, metrics } = await registerRun(db, store, record, options);
  options.log?.(
    `registered run ${record.runId} (${samples.length} grids, ${metrics.length} metric points), no model`,
  );
  return {
    runId: record.runId,
    grids: samples.length,
    metricPoints: metrics.length,
    skipped: false,
  };
}

/** Reads a bundled run's card.json (its display name and note), if it has one. */
function readCard(dir: string): { name?: string; note?: string } {
  const card = new RunFolder(dir).path('card');
  return existsSync(card) ? (JSON.parse(readFileSync(card, 'utf8')) as { name?: string }) : {};
}

/** One artifact a gallery registers on first start, as @ganstudio/bundled's manifest names it. */
export interface SeedArtifact {
  id: string;
  kind: 'default-model' | 'model' | 'reference-run' | 'real-set';
  path: string;
}

/**
 * First start of a gallery (Next.js or the Deno edge): register what ships with the repository,
 * once each, in the manifest's order: the judge game's real set, the runs the default was chosen
 * against (records only, for /runs/compare), the class-conditional model, and the default model.
 * Later starts cost a query each, and refresh a run whose folder gained lines.
 */
export async function seedBundled(
  db: Db,
  store: BlobStore,
  artifacts: readonly SeedArtifact[],
): Promise<void> {
  for (const { id, kind, path } of artifacts) {
    if (kind === 'real-set') {
      await uploadRealSet(db, path);
      continue;
    }
    const card = readCard(path);
    const named = {
      runId: id,
      onlyIfMissing: true,
      ...(card.name ? { name: card.name } : {}),
    };
    if (kind === 'reference-run') await uploadRunRecord(db, store, path, named);
    else
      await uploadRun(db, store, path, {
        ...named,
        ...(card.note ? { note: card.note } : {}),
        isDefault: kind === 'default-model',
      });
  }
}

/**
 * Registers kept epochs of a run as models of that run (`upload --epochs all|1,3,5`): each
 * epoch's generator (epochs/epoch-NNNN/, float32 as the trainer keeps it) quantized to uint8 and
 * uploaded as model `<run>-e<N>`, so the gallery can score epochs against each other (the judge
 * game's human score by epoch on /runs/[id]).
 */
export async function uploadEpochModels(
  db: Db,
  store: BlobStore,
  dir: string,
  options: {
    epochs: 'all' | number[];
    weights?: 'raw' | 'ema';
    runId?: string;
    name?: string;
    log?: (line: string) => void;
  },
): Promise<Model[]> {
  const run = new RunFolder(dir);
  const log = options.log ?? (() => {});
  const config = run.readConfig<Record<string, unknown>>();
  const runId = toId(options.runId ?? basename(dir));
  const weights = options.weights ?? (config['ema'] ? 'ema' : 'raw');
  refuseSymlink(run.path('epochs'));
  const kept = run.keptEpochs();
  const wanted = options.epochs === 'all' ? kept : options.epochs;
  const missing = wanted.filter((e) => !kept.includes(e));
  if (!wanted.length) throw new RunFolderError(`${dir}: no epochs kept in epochs/`);
  if (missing.length)
    throw new RunFolderError(
      `${dir}: epoch ${missing.join(', ')} not kept in epochs/ (kept: ${kept.join(', ') || 'none'})`,
    );
  const { latentDim, resolution, classes } = modelShape(config);
  const out: Model[] = [];
  for (const epoch of wanted) {
    const src = run.epochDir(epoch, weights === 'ema' ? 'generator-ema' : 'generator');
    if (!existsSync(join(src, 'model.json')))
      throw new RunFolderError(`${src}: no ${weights} generator kept for epoch ${epoch}`);
    const json = JSON.parse(readFileSync(join(src, 'model.json'), 'utf8')) as tf.io.ModelJSON;
    const raw = readFileSync(join(src, 'weights.bin'));
    const files = artifactsToFiles(
      quantizeArtifacts(
        {
          modelTopology: json.modelTopology,
          format: json.format,
          generatedBy: json.generatedBy,
          convertedBy: json.convertedBy,
          weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
          weightData: new Uint8Array(raw).buffer,
        },
        'uint8',
      ),
      {
        run: runId,
        epoch,
        weights,
        quantization: 'uint8',
        ...(classes ? { classes } : {}),
      },
    );
    const modelId = `${runId}-e${epoch}`.slice(0, 64);
    const modelKey = `models/${modelId}/model.json`;
    const modelJsonBytes = new TextEncoder().encode(JSON.stringify(files.modelJson));
    const { url: modelJsonUrl } = await store.put(modelKey, modelJsonBytes, 'application/json');
    await store.put(`models/${modelId}/weights.bin`, files.weights, 'application/octet-stream');
    out.push(
      await insertModel(db, {
        id: modelId,
        runId,
        name: `${options.name ?? runId} · epoch ${epoch}`,
        epoch,
        quantization: 'uint8',
        modelJsonUrl,
        modelKey,
        sizeBytes: modelJsonBytes.byteLength + files.weights.byteLength,
        latentDim,
        resolution,
        classes,
        metrics: {},
        note: null,
        isDefault: false,
      }),
    );
    log(`registered epoch ${epoch} (${weights} weights, uint8) as model ${modelId}`);
  }
  return out;
}

/**
 * Registers a real-image set written by `ganstudio real-set` (real-set.json + images.bin) for the
 * judge game, once: each image stored as an uncompressed PNG, so real and generated images the
 * game serves have the same byte count.
 */
export async function uploadRealSet(
  db: Db,
  dir: string,
): Promise<{ id: string; count: number; inserted: boolean }> {
  const manifest = readJson(join(dir, 'real-set.json')) as {
    id?: string;
    name?: string;
    source?: string;
    count?: number;
    labels?: number[];
    classes?: unknown;
  };
  const named = manifest.classes;
  const classes =
    Array.isArray(named) && named.every((c): c is string => typeof c === 'string') ? named : null;
  const pixels = readFileSync(join(dir, 'images.bin'));
  const count = manifest.count ?? 0;
  if (!manifest.id || !isId(manifest.id) || !count || pixels.byteLength !== count * 3072)
    throw new RunFolderError(
      `${dir}: not a real-image set (real-set.json and images.bin of count × 3,072 bytes, as \`ganstudio real-set\` writes them)`,
    );
  // Every start of a gallery comes here: a registered set costs one query, not 1,000 PNG encodes.
  if (await realSetExists(db, manifest.id)) return { id: manifest.id, count, inserted: false };
  const items = Array.from({ length: count }, (_, i) => {
    const rgba = new Uint8Array(32 * 32 * 4);
    for (let p = 0; p < 1024; p++)
      rgba.set([...pixels.subarray(i * 3072 + p * 3, i * 3072 + p * 3 + 3), 255], p * 4);
    return {
      idx: i,
      label: manifest.labels?.[i] ?? null,
      png: encodePng({ width: 32, height: 32, data: rgba }, { level: 0 }),
    };
  });
  const inserted = await insertRealSet(
    db,
    {
      id: manifest.id,
      name: manifest.name ?? manifest.id,
      source: manifest.source ?? 'unknown',
      classes,
    },
    items,
  );
  return { id: manifest.id, count, inserted };
}
