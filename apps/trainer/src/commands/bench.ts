/** `ganstudio bench`: training images/s of every backend that loads, each in its own process. */
import { availableParallelism } from 'node:os';

import { DEFAULT_DCGAN_CONFIG } from '@ganstudio/models/gan';

import { BACKENDS } from '../backend';
import {
  benchInProcess,
  formatBenchTable,
  parseExternal,
  runBench,
  type BenchPlan,
} from '../bench';
import { defineCommand, num, oneOf } from './flags';
import { BACKEND_FLAG } from './shared';

const TIMING = { warmup: 2, windows: 5, stepsPerWindow: 3 } as const;
/** The pure JS backend takes minutes per step at the default widths: one timed step. */
const CPU_TIMING = { warmup: 0, windows: 1, stepsPerWindow: 1 } as const;

export const benchCommand = defineCommand({
  summary: 'benchmark training speed of every backend that loads (and external commands)',
  about: `Trains the default DCGAN on random batches for a fixed number of steps on each backend, each in
its own process, and prints a table: backend, threads, images/s (median of timed windows after
warm-up), peak RSS, ratio to the cpu backend.`,
  flags: {
    backends: {
      kind: 'text',
      metavar: 'LIST',
      default: 'tensorflow-gpu,tensorflow,wasm,cpu',
      help: 'comma-separated',
    },
    'wasm-threads': {
      kind: 'text',
      metavar: 'LIST',
      default: `${availableParallelism()},1`,
      defaultText: "this machine's core count, then 1",
      help: 'thread counts to run wasm with',
    },
    'batch-size': { kind: 'int', min: 1, max: 4096, default: 64, help: 'images per step' },
    ngf: { kind: 'int', min: 1, default: DEFAULT_DCGAN_CONFIG.ngf, help: 'generator base width' },
    ndf: {
      kind: 'int',
      min: 1,
      default: DEFAULT_DCGAN_CONFIG.ndf,
      help: 'discriminator base width',
    },
    resolution: {
      kind: 'choice',
      choices: ['32', '64'],
      default: '32',
      help: 'image side of the DCGAN',
    },
    warmup: { kind: 'int', min: 0, default: TIMING.warmup, help: 'untimed steps first' },
    windows: { kind: 'int', min: 1, default: TIMING.windows, help: 'timed windows' },
    'steps-per-window': {
      kind: 'int',
      min: 1,
      default: TIMING.stepsPerWindow,
      help: 'steps per window',
    },
    'cpu-warmup': {
      kind: 'int',
      min: 0,
      default: CPU_TIMING.warmup,
      help: '--warmup for the cpu backend',
    },
    'cpu-windows': {
      kind: 'int',
      min: 1,
      default: CPU_TIMING.windows,
      help: '--windows for the cpu backend',
    },
    'cpu-steps-per-window': {
      kind: 'int',
      min: 1,
      default: CPU_TIMING.stepsPerWindow,
      help: '--steps-per-window for the cpu backend (~0.08 images/s at the defaults)',
    },
    external: {
      kind: 'list',
      metavar: 'NAME=COMMAND',
      help: 'also run COMMAND (sh -c) and read its "images/s: N" lines; repeatable',
    },
    // One measured process of the table (the parent starts it with these).
    child: { kind: 'bool', hidden: true, help: '' },
    backend: { ...BACKEND_FLAG, hidden: true },
  },
  async run(v) {
    const model = {
      ...DEFAULT_DCGAN_CONFIG,
      ngf: v.ngf,
      ndf: v.ndf,
      ...(v.resolution === '64' ? { resolution: 64 as const } : {}),
    };
    if (v.child) {
      const row = await benchInProcess({
        backend: v.backend,
        batchSize: v['batch-size'],
        model,
        warmup: v.warmup,
        windows: v.windows,
        stepsPerWindow: v['steps-per-window'],
      });
      process.stdout.write(JSON.stringify(row) + '\n');
      return 0;
    }
    const backends = v.backends.split(',').map((b) => oneOf('backends', b.trim(), BACKENDS));
    const threads = v['wasm-threads']
      .split(',')
      .map((t) => num('wasm-threads', t.trim(), { integer: true, min: 1 }));
    const common = [
      '--batch-size',
      String(v['batch-size']),
      '--ngf',
      String(v.ngf),
      '--ndf',
      String(v.ndf),
      '--resolution',
      v.resolution,
    ];
    const timing = (cpu: boolean) => [
      '--warmup',
      String(cpu ? v['cpu-warmup'] : v.warmup),
      '--windows',
      String(cpu ? v['cpu-windows'] : v.windows),
      '--steps-per-window',
      String(cpu ? v['cpu-steps-per-window'] : v['steps-per-window']),
    ];
    const runs: BenchPlan['runs'] = [];
    for (const b of backends) {
      if (b === 'wasm') {
        for (const t of [...new Set(threads)])
          runs.push({
            label: 'wasm',
            args: ['--backend', 'wasm', ...common, ...timing(false)],
            env: { GANSTUDIO_WASM_THREADS: String(t) },
          });
      } else {
        runs.push({ label: b, args: ['--backend', b, ...common, ...timing(b === 'cpu')], env: {} });
      }
    }
    const external = v.external.map(parseExternal);
    const rows = await runBench({ runs, external }, (l) => process.stderr.write(l + '\n'));
    process.stdout.write(
      `DCGAN-${v.resolution} ngf=${model.ngf} ndf=${model.ndf}, batch ${v['batch-size']}, ${availableParallelism()} cores, node ${process.version}\n\n${formatBenchTable(rows)}\n`,
    );
    return 0;
  },
});
