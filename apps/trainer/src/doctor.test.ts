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
      expect(report).toMatch(
        /GPU training: not available here; --backend auto will use (wasm|tensorflow \(CPU\))/,
      );
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
