/** Reads and writes a TF.js layers model folder (model.json + weights.bin) on disk, atomically. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';

import { classCountOf } from '@ganstudio/models/gan';
import {
  artifactsToFiles,
  loadModelFromFiles,
  modelToArtifacts,
  quantizeArtifacts,
  WEIGHTS_SHARD,
  type ModelFiles,
  type Quantization,
} from '@ganstudio/models/weights';
import { MODEL_JSON, RunFolder } from '@ganstudio/runs/folder';
import { writeFileAtomic } from '@ganstudio/runs/fs-atomic';

import { describeFsError, UserError } from '../errors';

export { MODEL_JSON };

export function writeModelFiles(dir: string, files: ModelFiles): void {
  // Shard first, then model.json: a folder whose model.json exists always has its weights.
  writeFileAtomic(join(dir, WEIGHTS_SHARD), files.weights);
  writeFileAtomic(join(dir, MODEL_JSON), JSON.stringify(files.modelJson));
}

export async function saveModel(
  model: tfl.LayersModel,
  dir: string,
  quantization: Quantization = 'float32',
  metadata?: Record<string, object | string | number | boolean>,
): Promise<ModelFiles> {
  const files = artifactsToFiles(
    quantizeArtifacts(await modelToArtifacts(model), quantization),
    metadata,
  );
  writeModelFiles(dir, files);
  return files;
}

export function readModelFiles(dir: string): ModelFiles {
  const jsonPath = dir.endsWith('.json') ? dir : join(dir, MODEL_JSON);
  const base = jsonPath.slice(0, jsonPath.length - MODEL_JSON.length);
  let text: string;
  let weights: Uint8Array;
  try {
    if (existsSync(dir) && statSync(dir).isDirectory() && !existsSync(jsonPath)) {
      throw new UserError(`${dir}: no ${MODEL_JSON} in this folder`);
    }
    text = readFileSync(jsonPath, 'utf8');
    let parsed: { weightsManifest?: { paths?: string[] }[] };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      throw new UserError(`${jsonPath}: not valid JSON`);
    }
    const shard = parsed.weightsManifest?.[0]?.paths?.[0] ?? WEIGHTS_SHARD;
    if (shard.includes('/') || shard.includes('..'))
      throw new UserError(`${jsonPath}: weight path ${shard} leaves the model folder`);
    weights = readFileSync(join(base, shard));
    return { modelJson: parsed as ModelFiles['modelJson'], weights };
  } catch (err) {
    throw describeFsError(err, jsonPath) ?? err;
  }
}

export async function loadModel(dir: string): Promise<tfl.LayersModel> {
  const files = readModelFiles(dir);
  try {
    return await loadModelFromFiles(files.modelJson, files.weights);
  } catch (err) {
    throw new UserError(`${dir}: cannot load model: ${(err as Error).message}`);
  }
}

/**
 * The class names of a conditional generator in `dir`: its model.json's metadata (exports carry
 * them), else the config.json of the run it lies in (checkpoints and epoch folders sit up to three
 * levels down), else the indices. Empty for an unconditional generator.
 */
export function generatorClassNames(dir: string, model: tfl.LayersModel): string[] {
  const count = classCountOf(model);
  if (!count) return [];
  const fromMeta = (
    readModelFiles(dir).modelJson as { userDefinedMetadata?: { classes?: unknown } }
  ).userDefinedMetadata?.classes;
  const valid = (names: unknown): names is string[] =>
    Array.isArray(names) && names.length === count && names.every((n) => typeof n === 'string');
  if (valid(fromMeta)) return fromMeta;
  for (let up = dir, i = 0; i < 4; i++, up = dirname(up)) {
    const config = new RunFolder(up).path('config');
    if (!existsSync(config)) continue;
    try {
      const names = (JSON.parse(readFileSync(config, 'utf8')) as { classNames?: unknown })
        .classNames;
      if (valid(names)) return names;
    } catch {
      // not a run's config: keep looking, then fall back to indices
    }
  }
  return Array.from({ length: count }, (_, i) => String(i));
}
