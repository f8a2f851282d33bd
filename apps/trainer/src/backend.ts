/**
 * Picks the TF.js backend at run time (never at import time, so one binary serves every machine):
 *   tensorflow-gpu  @tensorflow/tfjs-node-gpu (libtensorflow with CUDA 11.2 / cuDNN 8.1)
 *   webgpu          @tensorflow/tfjs-backend-webgpu on Dawn (the `webgpu` package) over Vulkan
 *   tensorflow      @tensorflow/tfjs-node (libtensorflow, CPU)
 *   wasm            @tensorflow/tfjs-backend-wasm + this project's training kernels, one thread per core
 *   cpu             @tensorflow/tfjs-backend-cpu (pure JS; slow, always there; the reference in tests)
 * Both native packages are optional dependencies: their install downloads libtensorflow, and where
 * that fails npm drops them and carries on.
 */
import os, { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';

import '@tensorflow/tfjs-backend-cpu';

import type * as WasmBackend from '@tensorflow/tfjs-backend-wasm';

import { registerWasmConvKernels } from '@ganstudio/models/kernels';

import { UserError } from './errors';
import {
  adapterLine,
  adapterName,
  forgetAdapter,
  gpuDeviceNodes,
  probeAdapter,
  registerWebgpu,
  releaseWebgpu,
  webgpuAdapter,
  type Adapter,
} from './webgpu';

export const BACKENDS = ['auto', 'tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKENDS)[number];

export interface BackendInfo {
  /** What was asked for. */
  requested: BackendChoice;
  /** The tfjs backend name now active (e.g. 'tensorflow', 'cpu'). */
  active: string;
  /** The choice it resolved to, for logs and run configs. */
  resolved: Exclude<BackendChoice, 'auto'>;
  /** One line: why this one (and why not the better ones). */
  reason: string;
  threads: number;
  /** The WebGPU adapter it runs on (webgpu only). */
  adapter?: Adapter;
}

const NATIVE_PACKAGES = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
} as const;

/** Imports a native binding by name held in a variable, so bundlers and tsc don't require it to exist. */
async function importNative(choice: keyof typeof NATIVE_PACKAGES): Promise<string | undefined> {
  const pkg: string = NATIVE_PACKAGES[choice];
  try {
    await import(pkg);
    return undefined;
  } catch (err) {
    const message = (err as Error).message.split('\n')[0] ?? String(err);
    return (err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' ||
      /Cannot find (module|package)/.test(message)
      ? `${pkg} is not installed`
      : `${pkg} failed to load: ${message}`;
  }
}

let wasmModule: typeof WasmBackend | undefined;

/** Threads for XNNPACK: one per core (this machine has 2), overridable with GANSTUDIO_WASM_THREADS. */
export function wasmThreadTarget(): number {
  const fromEnv = Number(process.env['GANSTUDIO_WASM_THREADS']);
  return Number.isInteger(fromEnv) && fromEnv >= 1 ? fromEnv : Math.max(1, availableParallelism());
}

/**
 * tfjs-backend-wasm plus the project's training kernels (packages/models/src/wasm-kernels.ts),
 * multi-threaded in Node. tfjs turns wasm threads off in Node (WASM_HAS_MULTITHREAD_SUPPORT is
 * hard-wired false there, tfjs issue #3830) because its pthread workers are started from Blob
 * URLs, which Node's worker_threads cannot load. The threaded binary itself runs in Node; only
 * the worker bootstrap needs a file: URL.createObjectURL is pointed at wasm-thread-worker.cjs for
 * the one Blob the backend makes for its workers, during initialisation only.
 */
async function loadWasm(): Promise<string | undefined> {
  try {
    wasmModule = await import('@tensorflow/tfjs-backend-wasm');
    registerWasmConvKernels();
    const threads = wasmThreadTarget();
    if (threads > 1) {
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
      wasmModule.setThreadsCount(threads);
    }
    return undefined;
  } catch (err) {
    return `@tensorflow/tfjs-backend-wasm failed to load: ${(err as Error).message}`;
  }
}

async function activateWasm(): Promise<boolean> {
  const original = URL.createObjectURL.bind(URL);
  const workerPath = fileURLToPath(new URL('./wasm-thread-worker.cjs', import.meta.url));
  URL.createObjectURL = (obj: Blob) =>
    obj instanceof Blob && obj.type === 'application/javascript' ? workerPath : original(obj);
  // The C++ side caps threads at emscripten_num_logical_cores() / 2 ("many x86-64 processors have
  // 2 threads per core", tfjs-backend-wasm backend.cc), read once as the module starts; in Node
  // that is os.cpus().length. Report twice the cores for that one read so the cap is the real
  // core count: on a 2-vCPU machine it would otherwise be 1 thread whatever was asked for.
  const realCpus = os.cpus;
  os.cpus = () => [...realCpus(), ...realCpus()];
  try {
    return await activate('wasm');
  } finally {
    URL.createObjectURL = original;
    os.cpus = realCpus;
  }
}

/**
 * Stops the wasm pthread workers (they would keep the process alive) once work is done, whether
 * wasm ran the work or only measured it (onFastestBackend).
 */
export function releaseBackend(): void {
  if (tf.findBackend('wasm')) tf.removeBackend('wasm');
  if (tf.findBackend('webgpu')) {
    tf.removeBackend('webgpu');
    releaseWebgpu();
  }
}

/**
 * Runs `work` (a measurement: feature-network passes, KID's and the distance passes' matmuls) on
 * wasm when the process trains on a CPU-bound backend slower at it than wasm: the pure-JS cpu
 * one (~20×) or webgpu on a software adapter (llvmpipe, ~15×); then returns. Tensors such as the
 * generator's weights move to the backend that uses them (tfjs's engine moves data on first use,
 * reading it synchronously, which webgpu cannot in Node): leaving webgpu, every variable is first
 * read back asynchronously, which webgpu keeps on the CPU side for that move. Any other backend,
 * webgpu on a GPU included, is already the fastest there is.
 */
export async function onFastestBackend<T>(
  work: () => T | Promise<T>,
): Promise<{ value: T; backend: string }> {
  const current = tf.getBackend();
  const softwareWebgpu = current === 'webgpu' && webgpuAdapter()?.software !== false;
  if (current !== 'cpu' && !softwareWebgpu) return { value: await work(), backend: current };
  if (softwareWebgpu)
    await Promise.all(Object.values(tf.engine().registeredVariables).map((v) => v.data()));
  // Loaded and initialised once per process: later measurements only switch to it.
  const wasm = tf.findBackend('wasm')
    ? await activate('wasm')
    : (await loadWasm()) === undefined && (await activateWasm());
  if (!wasm) return { value: await work(), backend: current };
  try {
    return { value: await work(), backend: 'wasm' };
  } finally {
    await tf.setBackend(current);
  }
}

function wasmThreads(): number {
  return wasmModule?.getThreadsCount() ?? 1;
}

async function activate(name: string): Promise<boolean> {
  try {
    // Production mode: skips per-op NaN debugging checks and the cpu backend's console banner
    // (the trainer says itself which backend it picked and why).
    tf.enableProdMode();
    return (await tf.setBackend(name)) && tf.getBackend() === name;
  } catch {
    return false;
  }
}

/** The backend `requested` resolves to, activated. */
export async function selectBackend(requested: BackendChoice): Promise<BackendInfo> {
  if (!BACKENDS.includes(requested)) {
    throw new UserError(
      `--backend must be one of ${BACKENDS.join(', ')}, got ${String(requested)}`,
    );
  }
  const skipped: string[] = [];
  const candidates: Exclude<BackendChoice, 'auto'>[] =
    requested !== 'auto' ? [requested] : ['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'];
  for (const choice of candidates) {
    if (choice === 'webgpu') {
      if (requested === 'auto' && !gpuDeviceNodes().length) {
        skipped.push(
          'webgpu: no GPU device (/dev/nvidia*, /dev/dri/renderD*), so only a software adapter, slower than wasm',
        );
        continue;
      }
      const probe = await probeAdapter();
      if (probe.failure !== undefined) {
        skipped.push(`webgpu: ${probe.failure}`);
        continue;
      }
      const { adapter } = probe;
      // A software adapter runs (CI trains on one when asked), but auto never picks it: a CPU
      // rasteriser is slower than this project's wasm kernels.
      if (requested === 'auto' && adapter.software) {
        forgetAdapter();
        skipped.push(`webgpu: only a software adapter (${adapterName(adapter)}), slower than wasm`);
        continue;
      }
      await registerWebgpu(adapter);
      if (await activate('webgpu'))
        return {
          requested,
          active: 'webgpu',
          resolved: 'webgpu',
          reason: `${reasonFor(requested, 'webgpu', skipped)}, ${adapterLine(adapter)}`,
          threads: 0,
          adapter,
        };
      forgetAdapter();
      skipped.push(`webgpu: the backend did not initialise on ${adapterLine(adapter)}`);
      continue;
    }
    if (choice === 'tensorflow-gpu' || choice === 'tensorflow') {
      const failure = await importNative(choice);
      if (failure === undefined && (await activate('tensorflow'))) {
        return {
          requested,
          active: 'tensorflow',
          resolved: choice,
          reason: reasonFor(requested, choice, skipped),
          threads: 0,
        };
      }
      skipped.push(
        failure ?? `${NATIVE_PACKAGES[choice]} loaded but its backend did not initialise`,
      );
      continue;
    }
    if (choice === 'wasm') {
      const failure = await loadWasm();
      if (failure === undefined && (await activateWasm())) {
        return {
          requested,
          active: 'wasm',
          resolved: 'wasm',
          reason: reasonFor(requested, 'wasm', skipped),
          threads: wasmThreads(),
        };
      }
      skipped.push(failure ?? 'the wasm backend did not initialise');
      continue;
    }
    if (await activate('cpu')) {
      return {
        requested,
        active: 'cpu',
        resolved: 'cpu',
        reason: reasonFor(requested, 'cpu', skipped),
        threads: 1,
      };
    }
  }
  throw new UserError(`backend ${requested} is not available: ${skipped.join('; ')}`);
}

function reasonFor(requested: BackendChoice, chosen: string, skipped: string[]): string {
  if (requested !== 'auto') return `${chosen} (asked for with --backend)`;
  return skipped.length
    ? `${chosen} (auto: ${skipped.join('; ')})`
    : `${chosen} (auto: best available)`;
}
