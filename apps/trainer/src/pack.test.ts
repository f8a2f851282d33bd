/**
 * The packed CLI (scripts/pack.mjs) as a GPU machine with no npm would use it: unpacked in a
 * folder with no node_modules above it, `doctor` reports and 20 steps train, on webgpu where an
 * adapter opens (CI: lavapipe) and on wasm.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

import { writeCifarTarGz } from './testing/cifar-fixture';
import { filesContaining } from './testing/cli';
import { forgetAdapter, probeAdapter } from './webgpu';

const trainer = join(dirname(fileURLToPath(import.meta.url)), '..');
const tarball = join(trainer, 'dist', 'ganstudio-linux-x64.tar.gz');
const probe = await probeAdapter();
forgetAdapter();

let root: string;
const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, [join(root, 'ganstudio', 'cli.mjs'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, CI: '1' },
    timeout: 600_000,
  });
  return { code: r.status, out: r.stdout + r.stderr };
};

beforeAll(() => {
  execFileSync(process.execPath, [join(trainer, 'scripts', 'pack.mjs')], { stdio: 'pipe' });
  root = mkdtempSync(join(tmpdir(), 'ganstudio-packed-'));
  execFileSync('tar', ['xzf', tarball, '-C', root]);
}, 300_000);

describe('the packed CLI', () => {
  it('is one tarball under 40 MiB that names no folder of the machine that made it', () => {
    expect(statSync(tarball).size / 2 ** 20).toBeLessThan(40);
    expect(existsSync(join(root, 'ganstudio', 'cli.mjs'))).toBe(true);
    // Nothing above it to resolve from: the temporary folder has no node_modules on its path.
    for (let d = root; d !== dirname(d); d = dirname(d))
      expect(existsSync(join(d, 'node_modules')), d).toBe(false);
    expect(filesContaining(join(root, 'ganstudio'), trainer.split('/apps/')[0]!)).toEqual([]);
  });

  it('doctor reports every backend from the tarball alone', () => {
    const r = cli('doctor');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/ok {3}backend wasm: @tensorflow\/tfjs-backend-wasm loads/);
    expect(r.out).toMatch(/(ok {3}|MISS )backend webgpu: /);
    expect(r.out).toMatch(/--backend auto will use /);
  });

  const backends = probe.failure === undefined ? ['webgpu', 'wasm'] : ['wasm'];
  it.each(backends)(
    '20 training steps on %s, with the shipped classifier measuring the result',
    (backend) => {
      const data = writeCifarTarGz(root, 80);
      const out = join(root, `run-${backend}`);
      const r = cli(
        'train',
        '--backend',
        backend,
        '--data',
        data,
        '--limit',
        '320',
        '--batch-size',
        '16',
        '--epochs',
        '1',
        '--ngf',
        '4',
        '--ndf',
        '4',
        '--fid-samples',
        '300',
        '--out',
        out,
      );
      expect(r.code, r.out).toBe(0);
      expect(r.out).toMatch(new RegExp(`finished at step 20/20 on ${backend}`));
      expect(r.out).toMatch(
        /epoch 1 \(CIFAR-10 classifier features, 300 samples vs .*\): FID \d+\.\d{3}, IS/,
      );
      expect(existsSync(join(out, 'generator-uint8', 'model.json'))).toBe(true);
    },
    600_000,
  );
});
