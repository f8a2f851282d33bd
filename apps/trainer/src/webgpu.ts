/**
 * WebGPU in Node from npm alone: the `webgpu` package ships Dawn (Chromium's WebGPU engine) as a
 * prebuilt dawn.node that draws through Vulkan, so it needs only the Vulkan loader (libvulkan1)
 * and a driver: the NVIDIA driver's own ICD on a GPU machine, Mesa's software lavapipe
 * (llvmpipe) elsewhere. @tensorflow/tfjs-backend-webgpu registers its backend only when
 * `navigator.gpu` exists as it is imported, so the adapter is opened first and the backend
 * imported after.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type * as Dawn from 'webgpu';

export interface Adapter {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A CPU rasteriser (llvmpipe, SwiftShader): slower than this project's wasm kernels. */
  software: boolean;
}

export type AdapterProbe = { adapter: Adapter; failure?: undefined } | { failure: string };

/** How doctor and every failure line tell a user to get an adapter. */
export const VULKAN_FIX =
  'install the Vulkan loader (Debian/Ubuntu: apt-get install libvulkan1) and a Vulkan driver: on an NVIDIA machine the driver ships its ICD (VK_DRIVER_FILES=/usr/share/vulkan/icd.d/nvidia_icd.json, or /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json in a container); without a GPU, Mesa ≥ 25 lavapipe (.ci/lavapipe.sh fetches it and prints its VK_DRIVER_FILES)';

/** Where Vulkan looks for drivers when VK_DRIVER_FILES does not say (the loader's defaults). */
export const ICD_DIRS = [
  '/usr/share/vulkan/icd.d',
  '/etc/vulkan/icd.d',
  '/usr/local/share/vulkan/icd.d',
  '/usr/local/nvidia/share/vulkan/icd.d',
];

/** The Vulkan driver manifests the loader will read: VK_DRIVER_FILES's, else the usual folders'. */
export function vulkanDrivers(env = process.env): string[] {
  const named = env['VK_DRIVER_FILES'] ?? env['VK_ICD_FILENAMES'];
  if (named) return named.split(':').filter((f) => f && existsSync(f));
  return ICD_DIRS.flatMap((d) => {
    try {
      return readdirSync(d)
        .filter((f) => f.endsWith('.json'))
        .map((f) => join(d, f));
    } catch {
      return [];
    }
  });
}

/**
 * The device nodes a hardware Vulkan driver opens: NVIDIA's, the kernel's render nodes (Mesa's
 * Intel and AMD drivers), WSL's. With none, only a CPU rasteriser can answer, so auto passes
 * webgpu over without loading Dawn, which prints older drivers' refusals (Debian 12's Mesa 22)
 * straight to stderr.
 */
export function gpuDeviceNodes(dev = '/dev'): string[] {
  const list = (dir: string, match: RegExp) => {
    try {
      return readdirSync(dir)
        .filter((f) => match.test(f))
        .map((f) => join(dir, f));
    } catch {
      return [];
    }
  };
  return [...list(dev, /^(nvidia\d+|dxg)$/), ...list(join(dev, 'dri'), /^renderD\d+$/)];
}

let dawn: typeof Dawn | undefined;
/**
 * One Dawn instance per process: the device tfjs opens on it dies with it, so once the backend is
 * registered the instance is held until releaseWebgpu (a second instance, or this one collected
 * while in use, crashes or stalls the process).
 */
let instance: GPU | undefined;
let backendHolds = false;
/** The adapter the registered backend runs on. */
let held: Adapter | undefined;

/** Loads dawn.node and asks for the default adapter; nothing is kept alive if none opens. */
export async function probeAdapter(): Promise<AdapterProbe> {
  try {
    dawn ??= await import('webgpu');
  } catch (err) {
    return { failure: `the webgpu package did not load: ${(err as Error).message.split('\n')[0]}` };
  }
  instance ??= dawn.create([]);
  let adapter: GPUAdapter | null;
  try {
    adapter = await instance.requestAdapter();
  } catch (err) {
    forgetAdapter();
    return { failure: `no WebGPU adapter: ${(err as Error).message.split('\n')[0]}` };
  }
  if (!adapter) {
    forgetAdapter();
    return {
      failure: `no WebGPU adapter: no Vulkan driver answered${process.env['VK_DRIVER_FILES'] ? ` (VK_DRIVER_FILES=${process.env['VK_DRIVER_FILES']})` : ''}`,
    };
  }
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const description = info.description || info.device || info.vendor || 'unknown adapter';
  return {
    adapter: {
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description,
      software:
        Boolean(info.isFallbackAdapter) ||
        info.architecture === 'software' ||
        /llvmpipe|lavapipe|swiftshader/i.test(description),
    },
  };
}

/** The adapter's short name: `llvmpipe`, `NVIDIA H100 80GB HBM3`. */
export const adapterName = (a: Adapter) => a.description.split(':')[0]?.trim() || a.device;

/** `adapter: llvmpipe (software)`, as every run on one says. */
export const adapterLine = (a: Adapter) =>
  `adapter: ${adapterName(a)} (${a.software ? 'software' : 'hardware'})`;

/**
 * Registers tfjs's webgpu backend on the instance probeAdapter opened (`adapter`, as it
 * described it): `navigator.gpu` is defined first (and WebGPU's globals such as GPUBufferUsage),
 * then the backend module imported. Once.
 */
export async function registerWebgpu(adapter: Adapter): Promise<void> {
  held = adapter;
  if (backendHolds) return;
  if (!dawn || !instance) throw new Error('probeAdapter() found no adapter');
  Object.assign(globalThis, dawn.globals);
  Object.defineProperty(globalThis, 'navigator', {
    value: { ...(globalThis as { navigator?: object }).navigator, gpu: instance },
    configurable: true,
    writable: true,
  });
  await import('@tensorflow/tfjs-backend-webgpu');
  backendHolds = true;
}

/** The adapter the webgpu backend runs on, once registered. */
export const webgpuAdapter = (): Adapter | undefined => held;

/** Drops a probe's instance, unless the backend runs on it. */
export function forgetAdapter(): void {
  if (!backendHolds) instance = undefined;
}

/**
 * After tf.removeBackend('webgpu'): drops the instance and `navigator.gpu`, the references that
 * would keep Node's event loop alive.
 */
export function releaseWebgpu(): void {
  backendHolds = false;
  held = undefined;
  instance = undefined;
  const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
  if (nav?.gpu) delete nav.gpu;
}
