/**
 * The tfjs backend the studio samples on, in the visitor's browser: WebGPU where the browser opens
 * a hardware adapter, else WebGL, else wasm (with this project's transposed-conv kernels), else cpu.
 */
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';

import { cacheWasmPhaseFilters, registerWasmConvKernels } from '@ganstudio/models/kernels';

import { BACKENDS, type Backend } from './backends';

/** The first backend that starts, from `only` if given (?backend= in the URL, to compare or debug). */
export async function pickBackend(only?: Backend): Promise<string> {
  for (const name of only ? [only] : BACKENDS) {
    try {
      if (name === 'webgpu') {
        // Loaded only where the browser opens a hardware adapter (a software one, SwiftShader, is
        // slower than WebGL); the backend registers itself on import when navigator.gpu exists.
        const gpu = (navigator as { gpu?: GPU }).gpu;
        const adapter = (await gpu?.requestAdapter()) as
          | { isFallbackAdapter?: boolean; info?: { isFallbackAdapter?: boolean } }
          | null
          | undefined;
        if (!adapter || adapter.isFallbackAdapter || adapter.info?.isFallbackAdapter) continue;
        await import('@tensorflow/tfjs-backend-webgpu');
      }
      if (name === 'wasm') {
        setWasmPaths('/tfjs-wasm/');
        await import('@tensorflow/tfjs-backend-wasm');
        // The same weights sample every grid: keep the transposed convs' phase filters (~7× the
        // stock kernel on the server's batch of 1; packages/api/bench/render.ts).
        registerWasmConvKernels();
        cacheWasmPhaseFilters();
      }
      if (await tf.setBackend(name)) {
        await tf.ready();
        return name;
      }
    } catch {
      // try the next one
    }
  }
  throw new Error('no TensorFlow.js backend could start in this browser');
}
