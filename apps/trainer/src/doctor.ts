/**
 * `ganstudio doctor`: which training backends load here and why not, the CUDA / cuDNN libraries
 * that @tensorflow/tfjs-node-gpu 4.x needs (CUDA 11.2, cuDNN 8.1; with anything newer it silently
 * runs on the CPU: tfjs issues #8187, #8269, #8362), the Vulkan loader, drivers and adapter the
 * webgpu backend draws through, the GPU, which backend `auto` takes and why, and the fix for each
 * missing piece.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

import {
  adapterLine,
  forgetAdapter,
  ICD_DIRS,
  probeAdapter,
  VULKAN_FIX,
  vulkanDrivers,
} from './webgpu';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** What to do when not ok. */
  fix?: string;
}

/** The shared libraries libtensorflow 2.9.1 (inside tfjs-node-gpu 4.x) dlopens, by soname. */
export const CUDA_LIBS: { soname: string; what: string }[] = [
  { soname: 'libcudart.so.11.0', what: 'CUDA 11 runtime' },
  { soname: 'libcublas.so.11', what: 'cuBLAS 11' },
  { soname: 'libcublasLt.so.11', what: 'cuBLASLt 11' },
  { soname: 'libcufft.so.10', what: 'cuFFT (CUDA 11)' },
  { soname: 'libcurand.so.10', what: 'cuRAND (CUDA 11)' },
  { soname: 'libcusolver.so.11', what: 'cuSOLVER 11' },
  { soname: 'libcusparse.so.11', what: 'cuSPARSE 11' },
  { soname: 'libcudnn.so.8', what: 'cuDNN 8' },
];

const CUDA_FIX =
  'install CUDA 11.2 and cuDNN 8.1 (or run the trainer in apps/trainer/Dockerfile, based on nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu20.04) and put their lib64 folders on LD_LIBRARY_PATH; see docs/gpu-runner.md';

function run(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 10_000,
    }).trim();
  } catch {
    return undefined;
  }
}

/** Where each soname resolves: ldconfig's cache, then LD_LIBRARY_PATH and the usual CUDA folders. */
export function findLibraries(
  sonames: string[],
  env = process.env,
): Map<string, string | undefined> {
  const cache = run('ldconfig', ['-p']) ?? run('/sbin/ldconfig', ['-p']) ?? '';
  const dirs = [
    ...(env['LD_LIBRARY_PATH'] ?? '').split(':').filter(Boolean),
    '/usr/local/cuda/lib64',
    '/usr/local/cuda-11.2/lib64',
    '/usr/lib/x86_64-linux-gnu',
  ];
  const found = new Map<string, string | undefined>();
  for (const soname of sonames) {
    const line = cache.split('\n').find((l) => l.trim().startsWith(soname + ' '));
    const fromCache = line?.split('=>')[1]?.trim();
    const fromDirs = dirs.map((d) => join(d, soname)).find((p) => existsSync(p));
    found.set(soname, fromCache ?? fromDirs);
  }
  return found;
}

export function describeGpu(): Check {
  const smi = run('nvidia-smi', [
    '--query-gpu=name,driver_version,memory.total,compute_cap',
    '--format=csv,noheader',
  ]);
  if (smi) {
    const gpus = smi.split('\n').filter(Boolean);
    const hopper = gpus.some((g) => /,\s*9\.0\s*$/.test(g));
    return {
      name: 'GPU',
      ok: true,
      detail:
        gpus.join('; ') +
        (hopper
          ? ' — compute capability 9.0 (H100/H200): libtensorflow 2.9.1 has no sm_90 kernels, so the first launch JIT-compiles PTX (minutes) into ~/.nv/ComputeCache; keep that folder between runs'
          : ''),
    };
  }
  const proc = existsSync('/proc/driver/nvidia/version')
    ? readFileSync('/proc/driver/nvidia/version', 'utf8').split('\n')[0]
    : undefined;
  return proc
    ? { name: 'GPU', ok: true, detail: `NVIDIA driver present (${proc}), nvidia-smi not on PATH` }
    : {
        name: 'GPU',
        ok: false,
        detail: 'no NVIDIA GPU or driver found (no nvidia-smi, no /proc/driver/nvidia)',
        fix: 'on a GPU machine install the NVIDIA driver (≥ 460 for CUDA 11.2); in a container pass the GPU through (docker run --gpus all, with nvidia-container-toolkit)',
      };
}

/** The Vulkan loader, its drivers and the adapter Dawn opens: what --backend webgpu runs on. */
async function webgpuChecks(): Promise<Check[]> {
  const loader = findLibraries(['libvulkan.so.1']).get('libvulkan.so.1');
  const drivers = vulkanDrivers();
  const probe = await probeAdapter();
  forgetAdapter();
  const adapter = probe.failure === undefined ? probe.adapter : undefined;
  return [
    {
      name: 'Vulkan loader',
      ok: Boolean(loader),
      detail: loader ? `libvulkan.so.1 → ${loader}` : 'libvulkan.so.1 not found',
      fix: 'apt-get install libvulkan1 (Debian/Ubuntu)',
    },
    {
      name: 'Vulkan drivers',
      ok: drivers.length > 0,
      detail: drivers.length
        ? drivers.join(', ') +
          (process.env['VK_DRIVER_FILES']
            ? ' (VK_DRIVER_FILES)'
            : ' (the loader finds them itself)')
        : `no driver manifest${process.env['VK_DRIVER_FILES'] ? ` at VK_DRIVER_FILES=${process.env['VK_DRIVER_FILES']}` : ` in ${ICD_DIRS.join(', ')}`}`,
      fix: VULKAN_FIX,
    },
    {
      name: 'backend webgpu',
      ok: Boolean(adapter),
      detail: adapter
        ? `${adapterLine(adapter)}: ${adapter.description} (vendor ${adapter.vendor || '?'}, architecture ${adapter.architecture || '?'}, device ${adapter.device || '?'})${adapter.software ? '; a CPU rasteriser, slower than wasm, so auto passes it over' : ''}`
        : String(probe.failure),
      fix: VULKAN_FIX,
    },
  ];
}

async function tryImport(pkg: string): Promise<string | undefined> {
  try {
    await import(pkg);
    return undefined;
  } catch (err) {
    return (err as Error).message.split('\n')[0];
  }
}

export async function doctor(): Promise<Check[]> {
  const checks: Check[] = [];
  const [major] = process.versions.node.split('.').map(Number);
  checks.push({
    name: 'Node.js',
    ok: (major ?? 0) >= 20,
    detail: `${process.version} on ${os.platform()}-${os.arch()}, ${os.availableParallelism()} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`,
    fix: 'use Node 20 (see .nvmrc)',
  });
  const gpu = describeGpu();
  checks.push(gpu);
  const libs = findLibraries(CUDA_LIBS.map((l) => l.soname));
  const missing = CUDA_LIBS.filter((l) => !libs.get(l.soname));
  checks.push({
    name: 'CUDA 11 / cuDNN 8 libraries',
    ok: missing.length === 0,
    detail: missing.length
      ? `missing: ${missing.map((l) => `${l.soname} (${l.what})`).join(', ')}`
      : CUDA_LIBS.map((l) => `${l.soname} → ${libs.get(l.soname)}`).join(', '),
    fix: CUDA_FIX,
  });
  const gpuPkg = '@tensorflow/tfjs-node-gpu';
  const gpuErr = await tryImport(gpuPkg);
  checks.push({
    name: 'backend tensorflow-gpu',
    ok: gpuErr === undefined,
    detail: gpuErr === undefined ? `${gpuPkg} loads` : `${gpuPkg}: ${gpuErr}`,
    fix: `npm install ${gpuPkg}@4.22.0 on a machine that can download libtensorflow (its install script fetches it from storage.googleapis.com), with allowScripts covering it`,
  });
  checks.push(...(await webgpuChecks()));
  const cpuPkg = '@tensorflow/tfjs-node';
  const cpuErr =
    gpuErr === undefined
      ? 'skipped: tfjs-node-gpu already provides the tensorflow backend'
      : await tryImport(cpuPkg);
  checks.push({
    name: 'backend tensorflow',
    ok: cpuErr === undefined,
    detail: cpuErr === undefined ? `${cpuPkg} loads` : `${cpuPkg}: ${cpuErr}`,
    fix: `npm install ${cpuPkg}@4.22.0 where libtensorflow can be downloaded; without it the wasm backend trains instead`,
  });
  const wasmErr = await tryImport('@tensorflow/tfjs-backend-wasm');
  checks.push({
    name: 'backend wasm',
    ok: wasmErr === undefined,
    detail:
      wasmErr === undefined
        ? `@tensorflow/tfjs-backend-wasm loads (${os.availableParallelism()} threads with this project's kernels)`
        : String(wasmErr),
    fix: 'npm ci (it is a regular dependency)',
  });
  checks.push({
    name: 'backend cpu',
    ok: true,
    detail: 'pure JS, always available (slow: for tests and tiny models)',
  });
  return checks;
}

/** What `--backend auto` takes on the machine these checks describe, and why (selectBackend's order). */
export function autoChoice(checks: Check[]): string {
  const ok = (name: string) => checks.find((c) => c.name === name)?.ok ?? false;
  const webgpu = checks.find((c) => c.name === 'backend webgpu');
  if (ok('backend tensorflow-gpu')) return 'tensorflow-gpu (libtensorflow with CUDA loads)';
  if (webgpu?.ok && !/\(software\)/.test(webgpu.detail))
    return `webgpu (${webgpu.detail.split(':')[0]})`;
  const why = webgpu?.ok ? 'the only WebGPU adapter is a software one' : 'no WebGPU adapter opens';
  if (ok('backend tensorflow')) return `tensorflow (CPU): ${why}`;
  return `wasm: ${why}, and neither libtensorflow package loads`;
}

export function formatChecks(checks: Check[]): string {
  const lines = checks.map(
    (c) =>
      `${c.ok ? 'ok  ' : 'MISS'} ${c.name}: ${c.detail}${!c.ok && c.fix ? `\n       fix: ${c.fix}` : ''}`,
  );
  const auto = autoChoice(checks);
  lines.push(
    '',
    /^(tensorflow-gpu|webgpu) /.test(auto)
      ? `GPU training: ready; --backend auto will use ${auto}`
      : `GPU training: not available here; --backend auto will use ${auto}`,
  );
  return lines.join('\n');
}
