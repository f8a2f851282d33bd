/**
 * `ganstudio bench`: trains the default DCGAN (ngf = ndf = 64, batch 64) for a fixed number of steps
 * on each backend that loads, each in its own process (so threads and peak RSS are its own), and
 * prints one table: backend, threads, images/s (median of timed windows after warm-up), peak RSS,
 * ratio to the cpu backend. External commands (another framework on the same machine) join the
 * same table: they must print a line "images/s: N".
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';

import { at } from '@ganstudio/models/arrays';
import {
  createGan,
  disposeGan,
  imageSizeOf,
  trainStep,
  type DcganConfig,
} from '@ganstudio/models/gan';

import { selectBackend, type BackendChoice } from './backend';
import { UserError } from './errors';
import { adapterLine } from './webgpu';

export interface BenchRow {
  name: string;
  threads: number | string;
  imagesPerSec: number;
  /** Images/s of each timed window, for the spread. */
  windows: number[];
  peakRssMb: number | null;
  note?: string;
}

export interface ChildOptions {
  backend: BackendChoice;
  threads?: number;
  batchSize: number;
  warmup: number;
  windows: number;
  stepsPerWindow: number;
  model: DcganConfig;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? at(s, m) : (at(s, m - 1) + at(s, m)) / 2;
};

/** Runs inside the child: random images stand in for data so only training is timed. */
export async function benchInProcess(o: ChildOptions): Promise<BenchRow> {
  const backend = await selectBackend(o.backend);
  const gan = createGan(o.model);
  const side = imageSizeOf(o.model);
  const real = tf.tidy(() =>
    tf.tanh<tf.Tensor4D>(tf.randomNormal([o.batchSize, side, side, 3], 0, 1, 'float32', 1)),
  );
  let step = 0;
  for (let i = 0; i < o.warmup; i++) await trainStep(gan, real, step++);
  const windows: number[] = [];
  for (let w = 0; w < o.windows; w++) {
    const t0 = performance.now();
    for (let i = 0; i < o.stepsPerWindow; i++) await trainStep(gan, real, step++);
    windows.push((o.stepsPerWindow * o.batchSize) / ((performance.now() - t0) / 1000));
  }
  real.dispose();
  disposeGan(gan);
  return {
    name: backend.resolved,
    // A GPU backend's "threads" are its adapter: `llvmpipe (software)`, `NVIDIA H100 … (hardware)`.
    threads: backend.adapter
      ? adapterLine(backend.adapter).replace(/^adapter: /, '')
      : backend.threads || 'native',
    imagesPerSec: median(windows),
    windows,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  };
}

/**
 * How a bench child starts: this module's own CLI through tsx in the workspace, or, inside the
 * packed CLI (one cli.mjs, apps/trainer/scripts/pack.mjs), that file itself.
 */
const HERE = fileURLToPath(import.meta.url);
const CHILD = HERE.endsWith('.ts')
  ? ['--import', 'tsx', fileURLToPath(new URL('./cli.ts', import.meta.url))]
  : [HERE];

function runChild(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...CHILD, 'bench', '--child', ...args], {
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** An external benchmark: `sh -c command`, timed by its own report "images/s: N"; its peak RSS comes from /usr/bin/time if present. */
function runExternal(name: string, command: string): Promise<BenchRow> {
  return new Promise((resolve) => {
    // From where the user typed `npm run bench` (GANSTUDIO_CWD), so relative paths in COMMAND work.
    const cwd = process.env['GANSTUDIO_CWD'] || process.cwd();
    const child = spawn('sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'], cwd });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => {
      const rates = [...out.matchAll(/images\/s:\s*([\d.]+)/g)].map((m) => Number(m[1]));
      const threads = /threads:\s*(\d+)/.exec(out)?.[1];
      const rss = /peak_rss_mb:\s*([\d.]+)/.exec(out)?.[1];
      resolve({
        name,
        threads: threads ? Number(threads) : '?',
        imagesPerSec: rates.length ? median(rates) : NaN,
        windows: rates,
        peakRssMb: rss ? Number(rss) : null,
        ...(code !== 0 || !rates.length ? { note: `exit ${code}, no "images/s:" line` } : {}),
      });
    });
  });
}

export interface BenchPlan {
  runs: { label: string; args: string[]; env: NodeJS.ProcessEnv }[];
  external: { name: string; command: string }[];
}

export async function runBench(plan: BenchPlan, log: (line: string) => void): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const run of plan.runs) {
    log(`bench: ${run.label} …`);
    const r = await runChild(run.args, run.env);
    const line = r.stdout.trim().split('\n').pop() ?? '';
    try {
      rows.push({ ...(JSON.parse(line) as BenchRow), name: run.label });
    } catch {
      const why = (
        r.stderr
          .trim()
          .split('\n')
          .find((l) => l.startsWith('error:')) ?? `exit ${r.code}`
      ).replace(/^error: /, '');
      rows.push({
        name: run.label,
        threads: '-',
        imagesPerSec: NaN,
        windows: [],
        peakRssMb: null,
        note: `not available: ${why}`,
      });
    }
  }
  for (const e of plan.external) {
    log(`bench: ${e.name} (external) …`);
    rows.push(await runExternal(e.name, e.command));
  }
  return rows;
}

export function formatBenchTable(rows: BenchRow[]): string {
  const cpu = rows.find((r) => r.name === 'cpu' && Number.isFinite(r.imagesPerSec));
  const lines = [
    '| backend | threads | images/s (median) | windows | peak RSS (MB) | × cpu |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    const ok = Number.isFinite(r.imagesPerSec);
    lines.push(
      `| ${r.name} | ${r.threads} | ${ok ? r.imagesPerSec.toFixed(r.imagesPerSec < 1 ? 3 : 1) : '—'} | ${r.windows.map((w) => w.toFixed(w < 1 ? 3 : 1)).join(', ')} | ${r.peakRssMb === null ? '—' : r.peakRssMb.toFixed(0)} | ${
        ok && cpu ? (r.imagesPerSec / cpu.imagesPerSec).toFixed(0) + '×' : '—'
      } |${r.note ? ` ${r.note}` : ''}`,
    );
  }
  return lines.join('\n');
}

export function parseExternal(spec: string): { name: string; command: string } {
  const eq = spec.indexOf('=');
  if (eq < 1) throw new UserError(`--external must look like NAME=COMMAND, got "${spec}"`, 2);
  return { name: spec.slice(0, eq), command: spec.slice(eq + 1) };
}
