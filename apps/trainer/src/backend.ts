/**
 * Picks the TF.js backend at run time (never at import time, so one binary serves every machine):
 *   tensorflow-gpu  @tensorflow/tfjs-node-gpu (libtensorflow with CUDA 11.2 / cuDNN 8.1)
 *   tensorflow      @tensorflow/tfjs-node (libtensorflow, CPU)
 *   cpu             @tensorflow/tfjs-backend-cpu (pure JS; slow, always there; the reference in tests)
 * Both native packages are optional dependencies: their install downloads libtensorflow, and where
 * that fails npm drops them and carries on.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { registerWasmTrainingKernels } from '@ganstudio/models';
import { UserError } from './errors';

export const BACKENDS = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
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

let wasmModule: { getThreadsCount(): number } | undefined;

/** tfjs-backend-wasm plus the project's training kernels (packages/models/src/wasm-kernels.ts). */
async function loadWasm(): Promise<string | undefined> {
  try {
    wasmModule = await import('@tensorflow/tfjs-backend-wasm');
    registerWasmTrainingKernels();
    return undefined;
  } catch (err) {
    return `@tensorflow/tfjs-backend-wasm failed to load: ${(err as Error).message}`;
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

export async function selectBackend(requested: BackendChoice): Promise<BackendInfo> {
  if (!BACKENDS.includes(requested)) {
    throw new UserError(
      `--backend must be one of ${BACKENDS.join(', ')}, got ${String(requested)}`,
    );
  }
  const skipped: string[] = [];
  const candidates: Exclude<BackendChoice, 'auto'>[] =
    requested === 'auto' ? ['tensorflow-gpu', 'tensorflow', 'cpu'] : [requested];
  for (const choice of candidates) {
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
      if (failure === undefined && (await activate('wasm'))) {
        return { requested, active: 'wasm', resolved: 'wasm', reason: reasonFor(requested, 'wasm', skipped), threads: wasmThreads() };
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
