/**
 * Publishing: what the trainer wrote (a run folder, read by @ganstudio/runs into a RunPublication;
 * a real-image set) into a gallery. Blobs are stored first, then the rows are written, so no row
 * points at a missing file. Publishing the same run again updates it in place: ids derive from
 * the run's name, never from a time.
 */
import type { Db } from '@ganstudio/db/client';
import { isId, toId, type Model, type ModelMetrics, type models } from '@ganstudio/db/schema';
import { encodePng } from '@ganstudio/models/image';
import { measurementOf } from '@ganstudio/models/measurement';
import { artifactsToFiles, quantizeArtifacts } from '@ganstudio/models/weights';
import {
  isMeasurement,
  isStep,
  type FolderReader,
  type GeneratorFiles,
  type MetricRecord,
  type RealSetFiles,
  type RunPublication,
} from '@ganstudio/runs/format';
import type { BlobStore } from '@ganstudio/storage';

import { getModel, insertModel, setModelMetrics } from './models';
import { insertRealSet, realSetExists } from './real-sets';
import { runExists, runRow, runSeries, upsertRun } from './runs';

/** What a folder lacks to be published (no exported generator, a real set of the wrong size). */
export class PublishError extends Error {}

export interface PublishOptions {
  /** Run id (default: the folder's name, sanitised). */
  runId?: string;
  name?: string;
  /** Make this the gallery's default model. */
  isDefault?: boolean;
  /** A line shown with the model (e.g. "best trained so far: 1 epoch"). */
  note?: string;
  /** Skip everything if the run (or its model) is registered already (first-start seeding). */
  onlyIfMissing?: boolean;
  log?: (line: string) => void;
}

export interface PublishResult {
  runId: string;
  /** The run's model (publishRun), none for a record-only run (publishRunRecord). */
  model?: Model;
  grids: number;
  metricPoints: number;
  skipped: boolean;
}

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

/** The last epoch a run's step lines reach (its config's `epochs` when it logged none). */
function epochsOf({ config, lines }: RunPublication): number {
  const steps = lines.filter(isStep);
  return steps.length ? Math.max(...steps.map((s) => s.epoch)) : Number(config['epochs'] ?? 0);
}

/**
 * The published weights' own measurement: the last measurement line at the model's epoch whose
 * passport says these weights' quantization (`eval --model …/generator-uint8 --json` of the
 * export, appended to the run's metrics.jsonl); {} when the run has none.
 */
function ownMeasurement(lines: MetricRecord[], epoch: number, quantization: string): ModelMetrics {
  const own = lines
    .filter(isMeasurement)
    .filter((l) => l.epoch === epoch && l.passport.quantization === quantization)
    .at(-1);
  return own ? measurementOf(own) : {};
}

/** The dtype a generator's weights are stored in (tf.io's quantization field; none: float32). */
const quantizationOf = (modelJson: GeneratorFiles['modelJson']): Model['quantization'] =>
  (modelJson.weightsManifest[0]?.weights[0]?.quantization?.dtype ??
    'float32') as Model['quantization'];

/** What a run's record was registered from: its config and lines, digested (16 hex digits of SHA-256). */
async function recordDigest({ config, lines }: RunPublication): Promise<string> {
  const bytes = new TextEncoder().encode(JSON.stringify({ config, lines }));
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return [...hash.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Stores a run's grids and registers the run with its series (losses, measures, training clock). */
async function registerRun(
  db: Db,
  store: BlobStore,
  runId: string,
  pub: RunPublication,
  { name, digest }: { name: string; digest: string },
): Promise<{ grids: number; metricPoints: number }> {
  const samples: { epoch: number; url: string }[] = [];
  for (const { epoch, file, bytes } of pub.grids) {
    const { url } = await store.put(`runs/${runId}/${file}`, bytes(), 'image/png');
    samples.push({ epoch, url });
  }
  const { metrics, curve } = runSeries(pub.lines);
  const speeds = pub.lines
    .filter(isStep)
    .map((s) => s.images_per_sec)
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  await upsertRun(
    db,
    {
      id: runId,
      name,
      config: {
        ...pub.config,
        ...(curve ? { curve } : {}),
        record_digest: digest,
      },
      status: 'finished',
      backend: typeof pub.config['backend'] === 'string' ? pub.config['backend'] : 'unknown',
      imagesPerSec: speeds[Math.floor(speeds.length / 2)] ?? null,
      epochs: epochsOf(pub),
    },
    samples,
    metrics,
  );
  return { grids: samples.length, metricPoints: metrics.length };
}

/**
 * A run already registered (a gallery's later starts) is registered again when its folder's
 * config or lines changed since, so a bundled run that gains measurements (KID, a scale line)
 * shows them in an existing gallery without touching its model, images or votes.
 */
async function refreshIfChanged(
  db: Db,
  store: BlobStore,
  runId: string,
  pub: RunPublication,
  options: PublishOptions,
): Promise<boolean> {
  // Every later start of a gallery comes here for each shipped run: the run's row only.
  const registered = await runRow(db, runId);
  const digest = await recordDigest(pub);
  if (!registered || (registered.config as { record_digest?: string }).record_digest === digest)
    return false;
  await registerRun(db, store, runId, pub, { name: options.name ?? registered.name, digest });
  options.log?.(`refreshed run ${runId}: its folder changed since it was registered`);
  return true;
}

/** Stores a generator's files under models/<id>/ and registers the model: the one way a model is made. */
export async function uploadGenerator(
  db: Db,
  store: BlobStore,
  model: Omit<
    typeof models.$inferInsert,
    'modelJsonUrl' | 'modelKey' | 'sizeBytes' | 'quantization'
  >,
  files: { modelJson: object; weights: Uint8Array },
): Promise<Model> {
  const modelKey = `models/${model.id}/model.json`;
  const modelJsonBytes = new TextEncoder().encode(JSON.stringify(files.modelJson));
  const { url: modelJsonUrl } = await store.put(modelKey, modelJsonBytes, 'application/json');
  await store.put(`models/${model.id}/weights.bin`, files.weights, 'application/octet-stream');
  return insertModel(db, {
    ...model,
    quantization: quantizationOf(files.modelJson as GeneratorFiles['modelJson']),
    modelJsonUrl,
    modelKey,
    sizeBytes: modelJsonBytes.byteLength + files.weights.byteLength,
  });
}

/** A run with its exported generator (generator-uint8/) as the model of its last epoch. */
export async function publishRun(
  db: Db,
  store: BlobStore,
  pub: RunPublication,
  options: PublishOptions = {},
): Promise<PublishResult & { model: Model }> {
  const log = options.log ?? (() => {});
  if (!pub.generator)
    throw new PublishError(
      'no exported generator (generator-uint8/model.json); finish or export the run first',
    );
  const runId = toId(options.runId ?? pub.name);
  const epoch = epochsOf(pub);
  const modelId = `${runId}-e${epoch}`.slice(0, 64);
  const existing = options.onlyIfMissing ? await getModel(db, modelId) : undefined;
  if (existing) {
    if (await refreshIfChanged(db, store, runId, pub, options))
      await setModelMetrics(db, modelId, ownMeasurement(pub.lines, epoch, existing.quantization));
    return { runId, model: existing, grids: 0, metricPoints: 0, skipped: true };
  }
  const { grids, metricPoints } = await registerRun(db, store, runId, pub, {
    name: options.name ?? runId,
    digest: await recordDigest(pub),
  });
  const weights = pub.generator.weights();
  const { latentDim, resolution, classes } = modelShape(pub.config);
  const quantization = quantizationOf(pub.generator.modelJson);
  const model = await uploadGenerator(
    db,
    store,
    {
      id: modelId,
      runId,
      name: options.name ?? `${runId} · epoch ${epoch}`,
      epoch,
      latentDim,
      resolution,
      classes,
      metrics: ownMeasurement(pub.lines, epoch, quantization),
      note: options.note ?? null,
      isDefault: options.isDefault ?? false,
    },
    { modelJson: pub.generator.modelJson, weights },
  );
  log(
    `registered run ${runId} (${grids} grids, ${metricPoints} metric points) and model ${modelId} (${(weights.byteLength / 1024).toFixed(0)} KiB, ${store.kind})`,
  );
  return { runId, model, grids, metricPoints, skipped: false };
}

/**
 * A run's record without a model (config, lines, grids): the curves of a run kept for comparison
 * (/runs/compare) whose generator is not published.
 */
export async function publishRunRecord(
  db: Db,
  store: BlobStore,
  pub: RunPublication,
  options: PublishOptions = {},
): Promise<PublishResult> {
  const runId = toId(options.runId ?? pub.name);
  if (options.onlyIfMissing && (await runExists(db, runId))) {
    await refreshIfChanged(db, store, runId, pub, options);
    return { runId, grids: 0, metricPoints: 0, skipped: true };
  }
  const { grids, metricPoints } = await registerRun(db, store, runId, pub, {
    name: options.name ?? runId,
    digest: await recordDigest(pub),
  });
  options.log?.(
    `registered run ${runId} (${grids} grids, ${metricPoints} metric points), no model`,
  );
  return { runId, grids, metricPoints, skipped: false };
}

/**
 * Kept epochs of a run as models of that run (`upload --epochs all|1,3,5`): each epoch's float32
 * generator quantized to uint8 as model `<run>-e<N>`, so the gallery can score epochs against
 * each other (the judge game's human score by epoch on /runs/[id]).
 */
export async function publishEpochModels(
  db: Db,
  store: BlobStore,
  pub: Pick<RunPublication, 'name' | 'config'>,
  kept: { weights: 'raw' | 'ema'; generators: { epoch: number; files: GeneratorFiles }[] },
  options: Pick<PublishOptions, 'runId' | 'name' | 'log'> = {},
): Promise<Model[]> {
  const runId = toId(options.runId ?? pub.name);
  const { latentDim, resolution, classes } = modelShape(pub.config);
  const out: Model[] = [];
  for (const { epoch, files } of kept.generators) {
    const { modelJson } = files;
    const quantized = artifactsToFiles(
      quantizeArtifacts(
        {
          modelTopology: modelJson.modelTopology as object,
          ...(modelJson.format ? { format: modelJson.format } : {}),
          ...(modelJson.generatedBy ? { generatedBy: modelJson.generatedBy } : {}),
          ...(modelJson.convertedBy ? { convertedBy: modelJson.convertedBy } : {}),
          weightSpecs: modelJson.weightsManifest.flatMap((g) => g.weights) as never,
          weightData: files.weights().slice().buffer,
        },
        'uint8',
      ),
      {
        run: runId,
        epoch,
        weights: kept.weights,
        quantization: 'uint8',
        ...(classes ? { classes } : {}),
      },
    );
    const modelId = `${runId}-e${epoch}`.slice(0, 64);
    out.push(
      await uploadGenerator(
        db,
        store,
        {
          id: modelId,
          runId,
          name: `${options.name ?? runId} · epoch ${epoch}`,
          epoch,
          latentDim,
          resolution,
          classes,
          metrics: {},
          note: null,
          isDefault: false,
        },
        quantized,
      ),
    );
    options.log?.(`registered epoch ${epoch} (${kept.weights} weights, uint8) as model ${modelId}`);
  }
  return out;
}

/**
 * A real-image set (`ganstudio real-set`) for the judge game, once: each image stored as an
 * uncompressed PNG, so real and generated images the game serves have the same byte count.
 */
export async function publishRealSet(
  db: Db,
  { manifest, pixels }: RealSetFiles,
): Promise<{ id: string; count: number; inserted: boolean }> {
  const named = manifest.classes;
  const classes =
    Array.isArray(named) && named.every((c): c is string => typeof c === 'string') ? named : null;
  const count = manifest.count ?? 0;
  if (!manifest.id || !isId(manifest.id) || !count || pixels.byteLength !== count * 3072)
    throw new PublishError(
      'not a real-image set (real-set.json and images.bin of count × 3,072 bytes, as `ganstudio real-set` writes them)',
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
  read: FolderReader,
): Promise<void> {
  for (const { id, kind, path } of artifacts) {
    if (kind === 'real-set') {
      await publishRealSet(db, read.realSet(path));
      continue;
    }
    const pub = read.publication(path);
    const options = {
      runId: id,
      onlyIfMissing: true,
      ...(pub.card.name ? { name: pub.card.name } : {}),
    };
    if (kind === 'reference-run') await publishRunRecord(db, store, pub, options);
    else
      await publishRun(db, store, pub, {
        ...options,
        ...(pub.card.note ? { note: pub.card.note } : {}),
        isDefault: kind === 'default-model',
      });
  }
}
