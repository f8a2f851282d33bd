import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { CUDA_LIBS, doctor, findLibraries, formatChecks } from './doctor';

describe('doctor', () => {
  it('on this machine (no GPU, no libtensorflow) says so, says what is needed, and names the fallback', async () => {
    const checks = await doctor();
    const byName = new Map(checks.map((c) => [c.name, c]));
    expect(byName.get('backend wasm')?.ok).toBe(true);
    expect(byName.get('backend cpu')?.ok).toBe(true);
    const report = formatChecks(checks);
    if (!byName.get('GPU')?.ok) {
      expect(report).toMatch(/MISS GPU: no NVIDIA GPU or driver found/);
      expect(report).toMatch(/fix: on a GPU machine install the NVIDIA driver/);
    }
    if (!byName.get('backend tensorflow-gpu')?.ok) {
      expect(report).toMatch(/MISS backend tensorflow-gpu: .*tfjs-node-gpu/);
      if (!/\(hardware\)/.test(byName.get('backend webgpu')?.detail ?? ''))
        expect(report).toMatch(
          /GPU training: not available here; --backend auto will use (wasm|tensorflow \(CPU\)): (the only WebGPU adapter is a software one|no WebGPU adapter opens)/,
        );
    }
    // The WebGPU path: the loader, the drivers and the adapter, each with its fix when missing.
    for (const name of ['Vulkan loader', 'Vulkan drivers', 'backend webgpu'])
      expect(byName.has(name), name).toBe(true);
    const webgpu = byName.get('backend webgpu')!;
    if (webgpu.ok) expect(webgpu.detail).toMatch(/^adapter: \S+ \((software|hardware)\): /);
    else expect(report).toMatch(/MISS backend webgpu: .*\n\s+fix: install the Vulkan loader/);
  });

  it('with no Vulkan driver it says so and how to get one, and auto falls to wasm', async () => {
    const saved = process.env['VK_DRIVER_FILES'];
    process.env['VK_DRIVER_FILES'] = join(tmpdir(), 'no-such-icd.json');
    try {
      const checks = await doctor();
      const report = formatChecks(checks);
      expect(report).toMatch(/MISS Vulkan drivers: no driver manifest at VK_DRIVER_FILES=/);
      expect(report).toMatch(/MISS backend webgpu: no WebGPU adapter/);
      if (!checks.find((c) => c.name === 'backend tensorflow')?.ok)
        expect(report).toMatch(/--backend auto will use wasm: no WebGPU adapter opens/);
    } finally {
      if (saved === undefined) delete process.env['VK_DRIVER_FILES'];
      else process.env['VK_DRIVER_FILES'] = saved;
    }
  });

  it('finds CUDA libraries on LD_LIBRARY_PATH and reports exactly the missing ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cuda-'));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'libcudnn.so.8'), '');
    const found = findLibraries(
      CUDA_LIBS.map((l) => l.soname),
      { LD_LIBRARY_PATH: dir },
    );
    expect(found.get('libcudnn.so.8')).toBe(join(dir, 'libcudnn.so.8'));
  });
});
