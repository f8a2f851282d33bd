/** The CLI as a person runs it, for tests: a real process, its exit code and both streams. */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

import { createRenderer } from '@ganstudio/api/render';
import { decodePng, type RgbaImage } from '@ganstudio/models/image';
import { createMemoryStore } from '@ganstudio/storage/memory';

export const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'ganstudio.js');

/** Runs `ganstudio …` with relative paths resolved against `cwd` (GANSTUDIO_CWD), non-interactive. */
export function runCli(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, GANSTUDIO_CWD: cwd, CI: '1', DEBUG: '' },
    timeout: 300_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The files under `dir` (recursively) whose bytes contain `needle`, as paths relative to `dir`:
 * what a published or bundled folder would leak of the machine it was made on.
 */
export function filesContaining(dir: string, needle: string): string[] {
  const found: string[] = [];
  const bytes = Buffer.from(needle);
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && readFileSync(path).includes(bytes))
        found.push(relative(dir, path));
    }
  };
  walk(dir);
  return found;
}

/**
 * Tile i of `sample --seed s` is, pixel for pixel, what the gallery's server render stores for
 * seed s + i (both on the cpu backend; in `classIndex` for a conditional generator): a grid and a
 * share link of one seed show one image.
 */
export async function expectTilesAreServerRenders(
  grid: RgbaImage,
  seed: number,
  generatorDir: string,
  classIndex: number | null = null,
) {
  const store = createMemoryStore();
  for (const f of ['model.json', 'weights.bin'])
    await store.put(
      `models/run/${f}`,
      readFileSync(join(generatorDir, f)),
      'application/octet-stream',
    );
  const renderer = createRenderer(store, { backend: 'cpu' });
  const model = { id: 'run', modelKey: 'models/run/model.json', latentDim: 100 };
  for (let i = 0; i < 4; i++) {
    const served = decodePng(await renderer.render(model, seed + i, classIndex));
    const [x0, y0] = [2 + (i % 2) * 34, 2 + Math.floor(i / 2) * 34];
    let differing = 0;
    for (let y = 0; y < 32; y++)
      for (let x = 0; x < 32 * 4; x++)
        if (grid.data[((y0 + y) * grid.width + x0) * 4 + x] !== served.data[y * 32 * 4 + x])
          differing++;
    expect(differing, `tile ${i} vs server render of seed ${seed + i}`).toBe(0);
  }
}
