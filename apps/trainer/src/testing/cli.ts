/** The CLI as a person runs it, for tests: a real process, its exit code and both streams. */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

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
