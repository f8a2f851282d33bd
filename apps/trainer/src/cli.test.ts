/** The CLI as a person runs it: real processes, exit codes, and what lands on stderr. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { decodePng } from '@ganstudio/models/image';

import { smokeTrainArgs, writeCifarTarGz } from './testing/cifar-fixture';
import { expectTilesAreServerRenders, filesContaining, runCli } from './testing/cli';

const root = mkdtempSync(join(tmpdir(), 'cli-test-'));
const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const cli = (...args: string[]) => runCli(root, ...args);

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
    expectCleanError(cli('train', '--lr-d', '2'), /--lr-d must be/);
    // One range for the optimizer, whoever checks it (models' validateOptimizer).
    expectCleanError(cli('train', '--lr', '1'), /--lr must be in \(0, 1\), got 1$/);
    expectCleanError(cli('train', '--beta1', '1'), /--beta1 must be in \[0, 1\), got 1$/);
    expectCleanError(cli('train', '--lr-d', 'fast'), /--lr-d must be/);
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
      /random.bin: not a folder, .zip or .tar.gz of images, nor the CIFAR-10 archive/,
    );
    expectCleanError(cli('sample', '--model', 'nowhere'), /nowhere: no such file or directory/);
    expectCleanError(
      cli('sample', '--model', '.', '--seed=-4'),
      /--seed must be an integer ≥ 0 ≤ 4294967295/,
    );
  });

  it('trains a smoke run, then samples and exports from it', async () => {
    const data = writeCifarTarGz(join(root, 'data'), 13); // 65 images
    const run = cli(...smokeTrainArgs(data, 'run', 64, 32));
    expect(run.stderr).toMatch(/backend: cpu \(asked for with --backend\)/);
    expect(run.stderr).toMatch(/finished at step 2\/2 on cpu/);
    expect(run.code).toBe(0);
    expect(existsSync(join(root, 'run', 'generator-uint8', 'model.json'))).toBe(true);

    const sampleGrid = (out: string) =>
      cli(
        'sample',
        '--model',
        'run/generator-uint8',
        '--seed',
        '7',
        '--count',
        '4',
        '--scale',
        '1',
        '--backend',
        'cpu',
        '--out',
        out,
      );
    const sample = sampleGrid('grid.png');
    expect(sample.code).toBe(0);
    const png = readFileSync(join(root, 'grid.png'));
    expect(png.readUInt32BE(16)).toBe(2 * 32 + 3 * 2); // 2×2 tiles of 32 px with 2 px gaps
    const again = sampleGrid('grid2.png');
    expect(again.code).toBe(0);
    expect(readFileSync(join(root, 'grid2.png')).equals(png)).toBe(true);
    await expectTilesAreServerRenders(decodePng(png), 7, join(root, 'run', 'generator-uint8'));

    const exp = cli('export', '--model', 'run', '--out', 'g16', '--quantization', 'float16');
    expect(exp.code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(root, 'g16', 'model.json'), 'utf8'));
    expect(manifest.weightsManifest[0].weights[0].quantization).toEqual({ dtype: 'float16' });

    // Trained from an absolute --data into an absolute folder, then uploaded to a gallery: no file
    // the gallery stores or serves (blobs, and the database's own files) names a folder here.
    expect(cli('upload', 'run', '--data-dir', 'gallery').code).toBe(0);
    expect(filesContaining(join(root, 'gallery'), root)).toEqual([]);
    const served = JSON.parse(
      readFileSync(join(root, 'gallery', 'blobs', 'models', 'run-e1', 'model.json'), 'utf8'),
    );
    expect(served.userDefinedMetadata.run).toBe('run');
  });
});

describe('the CLI from the repository root, as the README runs it', () => {
  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, {
      cwd: REPO,
      encoding: 'utf8',
      env: { ...process.env, CI: '1', DEBUG: '' },
      timeout: 300_000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const lines = (text: string) => text.split('\n').filter((l) => l.trim());

  it('a bad flag is exactly one line and exit 2, with nothing from a build tool around it', () => {
    for (const [cmd, args] of [
      ['npx', ['ganstudio', 'train', '--bogus']],
      ['npm', ['run', '--silent', 'train', '--', '--bogus']],
      ['npm', ['run', 'cli', '--', 'train', '--bogus']],
    ] as const) {
      const r = run(cmd, [...args]);
      expect(r.code, `${cmd} ${args.join(' ')}`).toBe(2);
      expect(lines(r.stderr)).toEqual(["error: Unknown option '--bogus'"]);
      expect(r.stdout + r.stderr).not.toMatch(/turbo|Tasks:|Failed:|ERROR|Packages in scope/);
    }
    // npm's own two-line banner (the script it runs) is all that plain `npm run` adds, on stdout.
    expect(lines(run('npm', ['run', '--silent', 'cli', '--', 'train', '--bogus']).stdout)).toEqual(
      [],
    );
  });

  it('a missing data file is one line and exit 1; --help prints only the help', () => {
    const missing = run('npx', [
      'ganstudio',
      'train',
      '--data',
      'nowhere.tar.gz',
      '--backend',
      'cpu',
    ]);
    expect(missing.code).toBe(1);
    expect(lines(missing.stderr)).toEqual([
      `error: ${join(REPO, 'nowhere.tar.gz')}: no such file or directory`,
    ]);
    const help = run('npx', ['ganstudio', 'train', '--help']);
    expect(help.code).toBe(0);
    expect(help.stderr).toBe('');
    expect(help.stdout.startsWith('usage: ganstudio train [flags]')).toBe(true);
  });

  it('a smoke run with default FID settings: a proportionate final FID, progress while measuring, a summary', () => {
    const data = writeCifarTarGz(join(root, 'fid-data'), 40);
    const out = join(root, 'fid-smoke');
    // Later flags win: FID back on at its defaults (every epoch, 2,000 samples, final proportionate).
    const r = cli(...smokeTrainArgs(data, out, 128, 16), '--fid-every', '1', '--backend', 'wasm');
    expect(r.code, r.stderr).toBe(0);
    const fids = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('"type":"fid"'))
      .map((l) => JSON.parse(l) as { samples: number });
    // 8 steps of 16 images: far from a CIFAR-10 epoch, so one 2,000-sample FID and no 10,000-sample one,
    // and no floor-and-ceiling scale (4,000 images through the network for a run that saw 128).
    expect(fids.map((f) => f.samples)).toEqual([2000]);
    expect(readFileSync(join(out, 'metrics.jsonl'), 'utf8')).not.toContain('"type":"scale"');
    // Non-terminal output: plain progress lines during the reference pass and the FID.
    expect(r.stderr).toMatch(/reference statistics: 200\/200 images \(100%\)/);
    expect(r.stderr).toMatch(
      /epoch 1 FID \(2000 samples\): \d{3,4}\/2000 images \(\d\d%\), \d+ images\/s, ETA \d+s/,
    );
    expect(r.stderr).toMatch(/epoch 1 FID \(2000 samples\): 2000\/2000 images \(100%\)/);
    expect(r.stderr).toMatch(/exported in /);
    // The summary says where everything went.
    const summary = r.stderr.slice(r.stderr.lastIndexOf('finished at step'));
    expect(summary).toMatch(new RegExp(`run folder: +${out}`));
    expect(summary).toMatch(
      /best FID: +\d+\.\d{3} at epoch 1 \(cifar10-classifier@\w+ features, 2000 samples; generator-best\/\)/,
    );
    expect(summary).toMatch(
      /final: +FID \d+\.\d{3}, IS [\d.]+ ± [\d.]+, KID -?\d\.\d{5} ± \d\.\d{5}, precision \d+\.\d%, recall \d+\.\d%, copies \d+\.\d% \(cifar10-classifier@\w+ features, 2000 samples\)/,
    );
    expect(summary).toMatch(
      new RegExp(`generator: +${join(out, 'generator-uint8')} \\(uint8, \\d+\\.\\d\\d MiB\\)`),
    );
    expect(summary).toMatch(/npx ganstudio sample --model .* --seed 7/);
    expect(summary).toMatch(new RegExp(`npx ganstudio upload ${out}`));
  });
});
