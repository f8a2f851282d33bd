/** The CLI as a person runs it: real processes, exit codes, and what lands on stderr. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { smokeTrainArgs, writeCifarTarGz } from './testing/cifar-fixture';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'ganstudio.js');
const root = mkdtempSync(join(tmpdir(), 'cli-test-'));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, GANSTUDIO_CWD: root, CI: '1', DEBUG: '' },
    timeout: 300_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** One "error: …" line, no stack frames. */
function expectCleanError(r: ReturnType<typeof cli>, pattern: RegExp) {
  expect(r.code).not.toBe(0);
  const lines = r.stderr.trim().split('\n');
  const errorLines = lines.filter((l) => l.startsWith('error: '));
  expect(errorLines).toHaveLength(1);
  expect(errorLines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('ganstudio CLI', () => {
  it('lists its commands and documents each one’s flags', () => {
    const top = cli('--help');
    expect(top.code).toBe(0);
    for (const c of ['train', 'sample', 'export']) expect(top.stdout).toContain(c);
    const help = cli('train', '--help');
    expect(help.code).toBe(0);
    for (const f of [
      '--data',
      '--epochs',
      '--batch-size',
      '--lr',
      '--beta1',
      '--ngf',
      '--ndf',
      '--loss',
      '--seed',
      '--out',
      '--sample-every',
      '--resume',
      '--backend',
      '--limit',
    ]) {
      expect(help.stdout).toContain(f);
    }
  });

  it('answers bad input with one clear line and a non-zero exit', () => {
    expectCleanError(cli('fly'), /unknown command "fly"/);
    expectCleanError(cli('train', '--epochs', 'ten'), /--epochs must be an integer ≥ 1, got "ten"/);
    expectCleanError(
      cli('train', '--loss', 'wasserstein', '--data', 'x'),
      /--loss must be one of bce, hinge/,
    );
    expectCleanError(cli('train', '--bogus'), /Unknown option '--bogus'/);
    expectCleanError(
      cli('train', '--data', 'missing.tar.gz', '--backend', 'cpu', '--out', 'r1'),
      /missing.tar.gz: no such file or directory/,
    );
    writeFileSync(
      join(root, 'random.bin'),
      Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 256)),
    );
    expectCleanError(
      cli('train', '--data', 'random.bin', '--backend', 'cpu', '--out', 'r2'),
      /not a tar.gz file/,
    );
    expectCleanError(cli('sample', '--model', 'nowhere'), /nowhere: no such file or directory/);
    expectCleanError(
      cli('sample', '--model', '.', '--seed=-4'),
      /--seed must be an integer ≥ 0 ≤ 4294967295/,
    );
  });

  it('trains a smoke run, then samples and exports from it', () => {
    const data = writeCifarTarGz(join(root, 'data'), 13); // 65 images
    const run = cli(...smokeTrainArgs(data, 'run', 64, 32));
    expect(run.stderr).toMatch(/backend: cpu \(asked for with --backend\)/);
    expect(run.stderr).toMatch(/finished at step 2\/2 on cpu/);
    expect(run.code).toBe(0);
    expect(existsSync(join(root, 'run', 'generator-uint8', 'model.json'))).toBe(true);

    const sampleGrid = (out: string) =>
      cli('sample', '--model', 'run', '--seed', '7', '--count', '4', '--scale', '1', '--out', out);
    const sample = sampleGrid('grid.png');
    expect(sample.code).toBe(0);
    const png = readFileSync(join(root, 'grid.png'));
    expect(png.readUInt32BE(16)).toBe(2 * 32 + 3 * 2); // 2×2 tiles of 32 px with 2 px gaps
    const again = sampleGrid('grid2.png');
    expect(again.code).toBe(0);
    expect(readFileSync(join(root, 'grid2.png')).equals(png)).toBe(true);

    const exp = cli('export', '--model', 'run', '--out', 'g16', '--quantization', 'float16');
    expect(exp.code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(root, 'g16', 'model.json'), 'utf8'));
    expect(manifest.weightsManifest[0].weights[0].quantization).toEqual({ dtype: 'float16' });
  });
});
