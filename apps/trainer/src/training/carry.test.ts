/**
 * A run that outlives its machine. A tiny run is trained, bundled with its carried
 * state, and continued with `train --carry-from` in a new process and a new folder, as a later
 * day's machine would; its metrics and grids go on without duplicated or missing steps.
 */
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { RunFolder } from '@ganstudio/runs/folder';

import { smokeTrainArgs, writeCifarTarGz } from '../testing/cifar-fixture';
import { filesContaining, runCli } from '../testing/cli';

const root = mkdtempSync(join(tmpdir(), 'carry-test-'));

const cli = (...args: string[]) => runCli(root, ...args);

const errorLines = (r: ReturnType<typeof cli>) =>
  r.stderr
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('error: '));

describe('carried state: train --carry-from a bundle on another machine', () => {
  // 128 images, batch 16: 8 steps an epoch; metrics every 2 steps.
  const data = writeCifarTarGz(join(root, 'data'), 40);
  const run = join(root, 'run');
  const bundle = join(root, 'bundle');
  const recipe = [
    ...smokeTrainArgs(data, run, 128, 16),
    '--log-every',
    '2',
    '--checkpoint-every',
    '3',
    '--fid-samples',
    '300',
    '--fid-final-samples',
    '300',
  ];
  recipe[recipe.indexOf('--epochs') + 1] = '2';

  it(
    'bundles epoch 2 with its whole training state: float32 nets and both Adam states',
    { timeout: 600_000 },
    () => {
      const trained = cli(...recipe, '--ema', '0.9', '--ngf', '8', '--ndf', '8');
      expect(trained.code, trained.stderr).toBe(0);
      const bundled = cli(
        'bundle',
        run,
        '--epoch',
        '2',
        '--weights',
        'raw',
        '--out',
        bundle,
        '--carry',
        '--data',
        data,
      );
      expect(bundled.code, bundled.stderr).toBe(0);
      // Trained and bundled from absolute paths: the bundle names its data, never a folder here.
      expect(filesContaining(bundle, root)).toEqual([]);
      const recorded = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
      expect(recorded.data).toBe('cifar-10-binary.tar.gz');
      expect(recorded.dataset).toMatchObject({ name: 'cifar10-train', images: 200 });
      expect(recorded.dataset.digest).toMatch(/^sha256:[0-9a-f]{16}$/);
      const state = JSON.parse(readFileSync(join(bundle, 'state', 'state.json'), 'utf8'));
      expect(state).toMatchObject({
        format: 'ganstudio-carried-state',
        version: 2,
        step: 16,
        epoch: 2,
      });
      // The epoch's own state, byte for byte: what the run would have resumed from.
      for (const file of [
        'generator/weights.bin',
        'discriminator/weights.bin',
        'generator-ema/weights.bin',
        'g-optimizer.bin',
        'd-optimizer.bin',
      ])
        expect(
          readFileSync(join(bundle, 'state', file)).equals(
            readFileSync(join(run, 'checkpoints', 'step-00000016', file)),
          ),
          file,
        ).toBe(true);
    },
  );

  it(
    'continues in a new process and folder: steps and grids go on, no seam, no repeats or gaps',
    { timeout: 600_000 },
    () => {
      // A later day's machine: only the bundle survives (here: copied away from the run folder).
      const carried = join(root, 'carried');
      cpSync(bundle, carried, { recursive: true });
      const out = join(root, 'continued');
      const r = cli(
        'train',
        '--carry-from',
        carried,
        '--epochs',
        '3',
        '--data',
        data,
        '--out',
        out,
        '--backend',
        'cpu',
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(
        /continuing .*carried at step 16 \(epoch 2\).*its whole training state, Adam moments included/,
      );
      const metrics = new RunFolder(out).readMetrics();
      const steps = metrics.filter((m) => m.type === 'step').map((m) => m.step);
      expect(steps).toEqual([2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24]);
      // An exact continuation is the same run: nothing marks where it moved.
      expect(metrics.filter((m) => m.type === 'seam')).toEqual([]);
      expect(readdirSync(join(out, 'samples')).sort()).toEqual([
        'epoch-0001.png',
        'epoch-0002.png',
        'epoch-0003.png',
      ]);
      // The carried grids are the bundle's own bytes; epoch 3 is new.
      expect(readFileSync(join(out, 'samples', 'epoch-0002.png'))).toEqual(
        readFileSync(join(bundle, 'samples', 'epoch-0002.png')),
      );
      expect(existsSync(join(out, 'generator-uint8', 'model.json'))).toBe(true);
      // The run's recipe came with it (widths, EMA), not the CLI's defaults.
      const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
      expect(config).toMatchObject({ epochs: 3, ema: 0.9, model: { ngf: 8, ndf: 8 } });
      // Bundled back into the bundle it was carried from: the epochs before the carry have no
      // generator in the continued run, so their grids and FID lines stay as carried; epoch 3 is
      // drawn from the run and the state moves to it.
      const again = cli('bundle', out, '--carry', '--out', carried, '--backend', 'cpu');
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).toMatch(/epoch 2 \(ema\): .* \(its grid and line as carried\)/);
      expect(readdirSync(join(carried, 'samples')).sort()).toEqual([
        'epoch-0001.png',
        'epoch-0002.png',
        'epoch-0003.png',
      ]);
      expect(readFileSync(join(carried, 'samples', 'epoch-0001.png'))).toEqual(
        readFileSync(join(bundle, 'samples', 'epoch-0001.png')),
      );
      const carriedState = JSON.parse(readFileSync(join(carried, 'state', 'state.json'), 'utf8'));
      expect(carriedState).toMatchObject({ step: 24 });
      // A run with neither generators nor a bundle to keep them from is still one clear error.
      const elsewhere = cli('bundle', out, '--out', join(root, 'fresh-bundle'), '--backend', 'cpu');
      expect(elsewhere.code).toBe(1);
      expect(elsewhere.stderr).toMatch(/no ema generator kept for epoch 1, 2 /);
    },
  );

  it(
    'a format-1 state (nets only, as bundles before 2026-12-06) continues with Adam restarted and a seam line',
    { timeout: 600_000 },
    () => {
      const old = join(root, 'format-1');
      cpSync(bundle, old, { recursive: true });
      for (const f of [
        'g-optimizer.bin',
        'g-optimizer.json',
        'd-optimizer.bin',
        'd-optimizer.json',
      ])
        rmSync(join(old, 'state', f));
      const statePath = join(old, 'state', 'state.json');
      const state = JSON.parse(readFileSync(statePath, 'utf8'));
      writeFileSync(statePath, JSON.stringify({ ...state, version: 1 }));
      const out = join(root, 'continued-format-1');
      const r = cli(
        ...['train', '--carry-from', old, '--epochs', '3', '--data', data, '--out', out],
        ...['--backend', 'cpu'],
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/format-1 at step 16 .*\(format 1\), Adam moments restarted/);
      const seams = new RunFolder(out).readMetrics().filter((m) => m.type === 'seam');
      expect(seams).toEqual([
        expect.objectContaining({ step: 16, epoch: 2, optimizer: 'restarted' }),
      ]);
    },
  );

  it(
    'a corrupt or wrong-shape state, or a missing one, is one error line and exit 1',
    { timeout: 600_000 },
    () => {
      const corrupt = join(root, 'corrupt');
      cpSync(bundle, corrupt, { recursive: true });
      const weights = join(corrupt, 'state', 'discriminator', 'weights.bin');
      writeFileSync(weights, readFileSync(weights).subarray(0, 100));
      const wrong = join(root, 'wrong');
      cpSync(bundle, wrong, { recursive: true });
      const config = JSON.parse(readFileSync(join(wrong, 'config.json'), 'utf8'));
      writeFileSync(
        join(wrong, 'config.json'),
        JSON.stringify({ ...config, model: { ...config.model, ngf: 4 } }),
      );
      const garbled = join(root, 'garbled');
      cpSync(bundle, garbled, { recursive: true });
      writeFileSync(join(garbled, 'state', 'state.json'), '{"format":');
      for (const [from, message] of [
        [corrupt, /state\/discriminator: cannot load/],
        [
          wrong,
          /state\/generator: does not fit the run's recipe \(ngf 4, ndf 8, latent 8\): weight 0 is 8×1024, expected 8×512/,
        ],
        [garbled, /state\/state\.json: not valid JSON/],
        [run.replace(/run$/, 'data'), /has no config\.json/],
        [run, /no carried state \(state\/state\.json\)/],
      ] as const) {
        const out = join(root, `out-${Math.random().toString(36).slice(2)}`);
        const r = cli(
          'train',
          '--carry-from',
          from,
          '--epochs',
          '3',
          '--data',
          data,
          '--out',
          out,
          '--backend',
          'cpu',
        );
        expect(r.code, r.stderr).toBe(1);
        expect(errorLines(r), r.stderr).toHaveLength(1);
        expect(errorLines(r)[0]).toMatch(message);
        expect(r.stderr).not.toMatch(/\n\s+at /);
        expect(existsSync(join(out, 'checkpoints'))).toBe(false); // nothing half-made
      }
      const noEpochs = cli('train', '--carry-from', bundle, '--data', data);
      expect(noEpochs.code).toBe(2);
      expect(errorLines(noEpochs)[0]).toMatch(/--carry-from needs --epochs N/);
      // A renamed flag keeps no alias: the old name is an unknown option.
      const oldName = cli('train', '--resume-from', bundle, '--data', data);
      expect(oldName.code).toBe(2);
      expect(errorLines(oldName)[0]).toMatch(/Unknown option '--resume-from'/);
    },
  );
});
