/**
 * The generator's on-disk and on-the-wire format: the standard TF.js layers format
 * (model.json + one binary shard), optionally quantized per weight to float16 or uint8 with the
 * manifest's standard `quantization` field — the same encoding tensorflowjs_converter writes
 * with --quantize_float16 / --quantize_uint8, which stock `tf.loadLayersModel` dequantizes.
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadLayersModel, type LayersModel } from '@tensorflow/tfjs-layers';

import { at } from './arrays';
import { concatBytes } from './image';

export type Quantization = 'float32' | 'float16' | 'uint8';
export const QUANTIZATIONS: readonly Quantization[] = ['float32', 'float16', 'uint8'];

/** The shard name written beside model.json; kept relative so the folder can move or be served. */
export const WEIGHTS_SHARD = 'weights.bin';

export interface ModelFiles {
  /** The parsed model.json (stringify it to write it). */
  modelJson: tf.io.ModelJSON;
  weights: Uint8Array;
}

function joinWeightData(data: tf.io.WeightData | undefined): ArrayBuffer {
  if (data === undefined) throw new Error('model artifacts hold no weights');
  return tf.io.CompositeArrayBuffer.join(data);
}

/** Serialises a model in memory (no I/O): topology + float32 weights. */
export async function modelToArtifacts(model: LayersModel): Promise<tf.io.ModelArtifacts> {
  let captured: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler((artifacts) => {
      captured = artifacts;
      return Promise.resolve({
        modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' },
      });
    }),
  );
  if (!captured) throw new Error('model.save produced no artifacts');
  return captured;
}

/** float32 → IEEE half bits, round to nearest even; overflow → ±Inf, underflow → subnormal or 0. */
export function float32ToFloat16Bits(value: number): number {
  const f32 = new Float32Array([value]);
  const x = at(new Uint32Array(f32.buffer), 0);
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf / NaN
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rounded = (mant + half - 1 + ((mant >>> shift) & 1)) >>> shift;
    return sign | rounded;
  }
  const rounded = mant + 0xfff + ((mant >>> 13) & 1);
  if (rounded & 0x800000) {
    mant = 0;
    e += 1;
    if (e >= 0x1f) return sign | 0x7c00;
  } else {
    mant = rounded;
  }
  return sign | (e << 10) | (mant >>> 13);
}

/**
 * Affine 8-bit range with zero exactly representable, as tensorflowjs_converter's
 * quantization does (so zero-initialised and ReLU-adjacent weights stay exactly zero).
 */
function uint8Range(values: Float32Array): { min: number; scale: number } {
  let lo = 0;
  let hi = 0;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const scale = hi > lo ? (hi - lo) / 255 : 1;
  const zero = Math.round(-lo / scale);
  return { min: -zero * scale, scale };
}

/** Re-encodes float32 artifacts' weights as float16 or uint8 (non-float weights pass through). */
export function quantizeArtifacts(
  artifacts: tf.io.ModelArtifacts,
  dtype: Quantization,
): tf.io.ModelArtifacts {
  if (!QUANTIZATIONS.includes(dtype))
    throw new RangeError(`quantization must be one of ${QUANTIZATIONS.join(', ')}`);
  const specs = artifacts.weightSpecs ?? [];
  const buffer = joinWeightData(artifacts.weightData);
  if (dtype === 'float32') return { ...artifacts, weightData: buffer };
  const parts: Uint8Array[] = [];
  const outSpecs: tf.io.WeightsManifestEntry[] = [];
  let offset = 0;
  for (const spec of specs) {
    if (spec.quantization) throw new Error(`weight ${spec.name} is already quantized`);
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const bytes = size * 4;
    if (spec.dtype !== 'float32') {
      parts.push(new Uint8Array(buffer, offset, bytes));
      outSpecs.push(spec);
      offset += bytes;
      continue;
    }
    const values = new Float32Array(buffer.slice(offset, offset + bytes));
    offset += bytes;
    if (dtype === 'float16') {
      const half = new Uint16Array(size);
      for (let i = 0; i < size; i++) half[i] = float32ToFloat16Bits(at(values, i));
      parts.push(new Uint8Array(half.buffer));
      outSpecs.push({ ...spec, quantization: { dtype: 'float16' } });
    } else {
      const { min, scale } = uint8Range(values);
      const q = new Uint8Array(size);
      for (let i = 0; i < size; i++)
        q[i] = Math.min(255, Math.max(0, Math.round((at(values, i) - min) / scale)));
      parts.push(q);
      outSpecs.push({ ...spec, quantization: { dtype: 'uint8', min, scale } });
    }
  }
  return {
    ...artifacts,
    weightSpecs: outSpecs,
    weightData: concatBytes(parts).buffer as ArrayBuffer,
  };
}

/** Artifacts → the two files of the standard format (model.json refers to WEIGHTS_SHARD). */
export function artifactsToFiles(
  artifacts: tf.io.ModelArtifacts,
  metadata?: Record<string, object | string | number | boolean>,
): ModelFiles {
  if (!artifacts.modelTopology) throw new Error('model artifacts hold no topology');
  const weights = new Uint8Array(joinWeightData(artifacts.weightData));
  const modelJson: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology,
    format: artifacts.format ?? 'layers-model',
    generatedBy: artifacts.generatedBy ?? 'TensorFlow.js',
    convertedBy: artifacts.convertedBy ?? null,
    weightsManifest: [{ paths: [WEIGHTS_SHARD], weights: artifacts.weightSpecs ?? [] }],
    ...(metadata ? { userDefinedMetadata: metadata } : {}),
  };
  return { modelJson, weights };
}

/** The inverse of artifactsToFiles: checks that the shard matches the manifest before tfjs sees it. */
export function filesToArtifacts(modelJson: unknown, weights: Uint8Array): tf.io.ModelArtifacts {
  const json = modelJson as Partial<tf.io.ModelJSON> | null;
  if (
    !json ||
    typeof json !== 'object' ||
    !json.modelTopology ||
    !Array.isArray(json.weightsManifest)
  ) {
    throw new Error('not a TF.js layers model.json (no modelTopology or weightsManifest)');
  }
  const specs = json.weightsManifest.flatMap((group) => group.weights);
  const expected = specs.reduce((sum, s) => {
    const size = s.shape.reduce((a, b) => a * b, 1);
    const width = s.quantization
      ? s.quantization.dtype === 'float16'
        ? 2
        : s.quantization.dtype === 'uint8'
          ? 1
          : 4
      : 4;
    return sum + size * width;
  }, 0);
  if (weights.byteLength !== expected) {
    throw new Error(`weights shard is ${weights.byteLength} bytes, the manifest needs ${expected}`);
  }
  return {
    modelTopology: json.modelTopology,
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy ?? undefined,
    weightSpecs: specs,
    // A copy that owns its buffer: Node's Buffer#slice is a view, and a small file's Buffer sits
    // at an offset inside a shared pool, so `.buffer` alone would be someone else's bytes.
    weightData: new Uint8Array(weights).buffer,
    userDefinedMetadata: json.userDefinedMetadata,
  };
}

/** Loads a model from in-memory files through stock tf.loadLayersModel. */
export function loadModelFromFiles(modelJson: unknown, weights: Uint8Array): Promise<LayersModel> {
  return loadLayersModel(tf.io.fromMemory(filesToArtifacts(modelJson, weights)));
}

/** Total bytes of the exported pair (model.json text + shard), as shown to gallery visitors. */
export function modelFilesSize(files: ModelFiles): number {
  return (
    new TextEncoder().encode(JSON.stringify(files.modelJson)).length + files.weights.byteLength
  );
}
