/**
 * Crash safety: the trainer is killed with SIGKILL at random moments (steps, checkpoint writes,
 * metric appends) several times and resumed each time; every resume loads, the step count only
 * moves forward, and the finished run folder is consistent (no duplicated or torn metric lines).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { createRng } from '@ganstudio/models/gan';
import { RunFolder } from '@ganstudio/runs/folder';

import { smokeTrainArgs, writeCifarTarGz } from './testing/cifar-fixture';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'ganstudio.js');

describe('SIGKILL during training and checkpointing', () => {
  it('every resume loads and continues; the final run folder is consistent', async () => {
    const root = mkdtempSync(join(tmpdir(), 'crash-'));
    const data = writeCifarTarGz(join(root, 'data'), 52); // 260 images
    const args = smokeTrainArgs(
      data,
      join(root, 'run'),
      256,
      16,
      '--checkpoint-every',
      '1',
      '--log-every',
      '1',
    );
    const env = { ...process.env, CI: '1' };
    const rng = createRng(20261127);
    const resumedFrom: number[] = [];
    for (let kill = 0; kill < 4; kill++) {
      const child = spawn(process.execPath, [BIN, ...args, ...(kill > 0 ? ['--resume'] : [])], {
        env,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      // Wait for the first step of this sitting, then kill at a random moment within the next ~2 s.
      await new Promise<void>((resolve) => {
        const poll = setInterval(() => {
          if (/step \d+\/16/.test(stderr) || child.exitCode !== null) {
            clearInterval(poll);
            setTimeout(() => {
              child.kill('SIGKILL');
              resolve();
            }, rng() * 2000);
          }
        }, 50);
      });
      await new Promise((r) => child.on('close', r));
      const m = /resumed from step (\d+)/.exec(stderr);
      if (m) resumedFrom.push(Number(m[1]));
      expect(stderr).not.toMatch(/error:/);
    }
    const final = spawnSync(process.execPath, [BIN, ...args, '--resume'], {
      env,
      encoding: 'utf8',
      timeout: 300_000,
    });
    expect(final.stderr).toMatch(/finished at step 16\/16/);
    expect(final.status).toBe(0);
    const last = /resumed from step (\d+)/.exec(final.stderr);
    if (last) resumedFrom.push(Number(last[1]));
    expect(resumedFrom.length).toBeGreaterThan(0);
    expect([...resumedFrom].sort((a, b) => a - b)).toEqual(resumedFrom); // never goes back
    const steps = new RunFolder(join(root, 'run')).readMetrics().map((r) => r.step);
    expect(steps).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    const sample = spawnSync(
      process.execPath,
      [
        BIN,
        'sample',
        '--model',
        join(root, 'run'),
        '--count',
        '4',
        '--out',
        join(root, 'g.png'),
        '--backend',
        'cpu',
      ],
      { env, encoding: 'utf8' },
    );
    expect(sample.status).toBe(0);
  });
});
