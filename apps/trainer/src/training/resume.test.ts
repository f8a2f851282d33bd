/**
 * Exact resume. A run is SIGKILLed at random moments (mid-step, mid-checkpoint, mid-metrics-append:
 * with a checkpoint and a metrics line every step, a random moment lands in each) and resumed each
 * time; it must end with the metrics lines of the run that never stopped, to the last digit (timing
 * fields aside), and with the same weights and Adam state bit for bit. On the wasm backend (two
 * threads) and the pure-JS cpu one; unconditional with the EMA, conditional, spectral norm with
 * hinge, and continued from a carried state in a new folder on "another machine".
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

import { createRng } from '@ganstudio/models/gan';
import { RunFolder } from '@ganstudio/runs/folder';

import { smokeTrainArgs, writeCifarTarGz } from '../testing/cifar-fixture';
import { BIN } from '../testing/cli';

const root = mkdtempSync(join(tmpdir(), 'resume-'));
// 200 training images of the fixture, or the real CIFAR-10 where CI has it: the same mechanism.
const data = process.env['CIFAR10_PATH'] || writeCifarTarGz(join(root, 'data'), 40);
const env = { ...process.env, CI: '1', GANSTUDIO_WASM_THREADS: '2' };

/** Fields that measure the machine's speed, not the run: the only ones allowed to differ. */
const TIMING = new Set(['images_per_sec', 'elapsed_s', 'seconds', 'backend']);

/** metrics.jsonl as written, each line without its timing fields. */
function lines(run: string): string[] {
  return readFileSync(new RunFolder(run).path('metrics'), 'utf8')
    .trim()
    .split('\n')
    .map((l) =>
      JSON.stringify(JSON.parse(l), (key, value: unknown) => (TIMING.has(key) ? undefined : value)),
    );
}

/** Every weight and optimizer file of the run's last checkpoint and its uint8 export. */
function finalState(run: string): Map<string, Buffer> {
  const folder = new RunFolder(run);
  const last = folder.checkpointSteps().at(-1);
  if (last === undefined) throw new Error(`${run}: no checkpoint`);
  const files = new Map<string, Buffer>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith('.bin'))
        files.set(relative(run, path).replace(/^.*?step-\d+\//, ''), readFileSync(path));
    }
  };
  walk(folder.checkpointDir(last));
  files.set('generator-uint8', readFileSync(join(folder.path('export'), 'weights.bin')));
  return files;
}

function straight(args: string[]): void {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    env,
    encoding: 'utf8',
    timeout: 300_000,
  });
  expect(r.status, r.stderr).toBe(0);
}

/**
 * Runs a training run in sittings: `first`, then `then` (which resumes) for the rest. Sitting k is
 * killed with SIGKILL once it reports step `killAt[k]`, after a random delay of up to `windowMs`
 * (so inside the next step, its checkpoint or its metrics append); the last sitting runs to the
 * end. Returns the steps the sittings resumed from.
 */
async function killedAndResumed(
  first: string[],
  then: string[],
  killAt: number[],
  seed: number,
  windowMs: number,
) {
  const rng = createRng(seed);
  const resumedFrom: number[] = [];
  const resumed = (stderr: string) => {
    const m = /resumed from step (\d+)/.exec(stderr);
    if (m) resumedFrom.push(Number(m[1]));
  };
  for (const [k, step] of killAt.entries()) {
    const child = spawn(process.execPath, [BIN, ...(k === 0 ? first : then)], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        const reached = [...stderr.matchAll(/ step (\d+)\/\d+/g)].some((m) => Number(m[1]) >= step);
        if (reached || child.exitCode !== null) {
          clearInterval(poll);
          setTimeout(() => {
            child.kill('SIGKILL');
            resolve();
          }, rng() * windowMs);
        }
      }, 10);
    });
    await new Promise((r) => child.on('close', r));
    expect(stderr).not.toMatch(/error:/);
    resumed(stderr);
  }
  const last = spawnSync(process.execPath, [BIN, ...then], {
    env,
    encoding: 'utf8',
    timeout: 300_000,
  });
  expect(last.status, last.stderr).toBe(0);
  expect(last.stderr).toMatch(/finished at step/);
  resumed(last.stderr);
  return resumedFrom;
}

/** Kill points spread over a 40-step run: tfjs's own Adam restore differs from step 18 on. */
const KILL_AT = [6, 17, 25, 33];

/** A run killed four times equals, line for line and bit for bit, the one that never stopped. */
async function expectExactResume(name: string, recipe: string[], seed: number, windowMs = 300) {
  const once = join(root, `${name}-straight`);
  const killed = join(root, `${name}-killed`);
  straight([...recipe, '--out', once]);
  const args = [...recipe, '--out', killed];
  const resumedFrom = await killedAndResumed(args, [...args, '--resume'], KILL_AT, seed, windowMs);
  expect(resumedFrom.length, 'no sitting was resumed from a checkpoint').toBeGreaterThan(2);
  expect([...resumedFrom].sort((a, b) => a - b)).toEqual(resumedFrom); // never goes back
  expect(lines(killed)).toEqual(lines(once));
  const [a, b] = [finalState(once), finalState(killed)];
  expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
  for (const [file, bytes] of a) expect(b.get(file)?.equals(bytes), file).toBe(true);
}

/** 160 images in batches of 8: 20 steps an epoch, 2 epochs; a checkpoint and a line every step. */
const recipe = (backend: 'wasm' | 'cpu', width: number, ...extra: string[]) => {
  const args = smokeTrainArgs(data, '', 160, 8, ...extra);
  const set = (flag: string, value: string) => args.splice(args.indexOf(flag), 2, flag, value);
  set('--backend', backend);
  set('--epochs', '2');
  set('--ngf', String(width));
  set('--ndf', String(width));
  args.splice(args.indexOf('--out'), 2); // each run names its own
  return [...args, '--checkpoint-every', '1', '--log-every', '1', '--ema', '0.9'];
};

describe('exact resume: SIGKILL at random moments, then --resume', () => {
  it('wasm (2 threads), unconditional with the EMA', { timeout: 600_000 }, async () => {
    await expectExactResume('wasm', recipe('wasm', 8), 20261206);
  });

  it('wasm, class-conditional', { timeout: 600_000 }, async () => {
    await expectExactResume('conditional', recipe('wasm', 8, '--conditional'), 7);
  });

  it('wasm, spectral norm with the hinge loss', { timeout: 600_000 }, async () => {
    await expectExactResume(
      'spectral',
      recipe('wasm', 8, '--spectral-norm', '--loss', 'hinge'),
      11,
    );
  });

  it('the pure-JS cpu backend', { timeout: 600_000 }, async () => {
    await expectExactResume('cpu', recipe('cpu', 2), 5, 1000);
  });

  it(
    'carried to a new folder after epoch 1 and killed there: the same run',
    { timeout: 600_000 },
    async () => {
      const args = recipe('wasm', 8);
      const once = join(root, 'wasm-straight'); // the first test's uninterrupted run
      const first = join(root, 'carry-first');
      straight([...args, '--out', first, '--max-steps', '20']);
      const bundle = join(root, 'carry-bundle');
      straight([
        'bundle',
        first,
        '--epoch',
        '1',
        '--weights',
        'ema',
        '--out',
        bundle,
        '--carry',
        '--data',
        data,
      ]);
      // Another machine: only the bundle travels.
      const carried = join(root, 'carry-elsewhere');
      cpSync(bundle, carried, { recursive: true });
      const out = join(root, 'carry-continued');
      const carryArgs = [
        'train',
        '--carry-from',
        carried,
        '--epochs',
        '2',
        '--data',
        data,
        '--backend',
        'wasm',
      ];
      const resume = ['train', '--resume', '--data', data, '--backend', 'wasm', '--out', out];
      const resumedFrom = await killedAndResumed(
        [...carryArgs, '--out', out],
        resume,
        [27, 34],
        3,
        300,
      );
      expect(resumedFrom.every((s) => s >= 20)).toBe(true);
      // The bundle measured epoch 1, which the recipe (--fid-every 0) never did: its one extra line.
      const measured = (l: string) => l.startsWith('{"type":"fid"');
      expect(lines(out).filter(measured)).toHaveLength(1);
      expect(lines(out).filter((l) => !measured(l))).toEqual(lines(once));
      const [a, b] = [finalState(once), finalState(out)];
      for (const [file, bytes] of a) expect(b.get(file)?.equals(bytes), file).toBe(true);
    },
  );
});
