/**
 * Server render speed: the bundled default generator (narrow DCGAN, ngf 32, uint8), one image, on each
 * tfjs backend the renderer can use, each in its own process (kernel registration is one-way).
 * Prints the median and fastest of 25 renders after 5 warm-up ones.
 *
 *   npx tsx packages/api/bench/render.ts
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';

import { defaultRunPath } from '@ganstudio/bundled';
import { sampleSeeds } from '@ganstudio/models/gan';
import { cacheWasmPhaseFilters, registerWasmConvKernels } from '@ganstudio/models/kernels';
import { loadModelFromFiles } from '@ganstudio/models/weights';

const MODES = {
  cpu: 'cpu (pure JS)',
  'wasm-stock': 'wasm, stock kernels',
  'wasm-phase': 'wasm, phase-split transposed conv',
  'wasm-cached': 'wasm, phase-split with filters kept (shipped)',
} as const;
type Mode = keyof typeof MODES;
const dir = join(defaultRunPath(), 'generator-uint8');

async function measure(mode: Mode): Promise<{ median: number; min: number }> {
  if (mode === 'cpu') {
    await import('@tensorflow/tfjs-backend-cpu');
  } else {
    await import('@tensorflow/tfjs-backend-wasm');
    if (mode !== 'wasm-stock') registerWasmConvKernels();
    if (mode === 'wasm-cached') cacheWasmPhaseFilters();
  }
  tf.enableProdMode();
  await tf.setBackend(mode === 'cpu' ? 'cpu' : 'wasm');
  const g = await loadModelFromFiles(
    JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')),
    new Uint8Array(readFileSync(join(dir, 'weights.bin'))),
  );
  const times: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t = performance.now();
    const y = sampleSeeds(g, i, 1);
    await y.data();
    y.dispose();
    if (i >= 5) times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { median: times[times.length >> 1]!, min: times[0]! };
}

const child = process.argv[2] as Mode | undefined;
if (child) {
  process.stdout.write(JSON.stringify(await measure(child)) + '\n');
} else {
  const rows = Object.entries(MODES).map(([mode, label]) => {
    const out = execFileSync(
      process.execPath,
      [...process.execArgv, fileURLToPath(import.meta.url), mode],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    const r = JSON.parse(out.trim().split('\n').pop()!) as { median: number; min: number };
    return { label, ...r };
  });
  const cpu = rows[0]!.median;
  console.log('| backend | median ms | fastest ms | × cpu |\n| --- | --- | --- | --- |');
  for (const r of rows)
    console.log(
      `| ${r.label} | ${r.median.toFixed(1)} | ${r.min.toFixed(1)} | ${(cpu / r.median).toFixed(1)}× |`,
    );
}
