/** The CLI as a person runs it, for tests: a real process, its exit code and both streams. */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
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
