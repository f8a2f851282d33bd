/**
 * What the browser and instance suites share: where the app is, a free port, child processes, and
 * a gallery process started the way `npm start` starts it and waited for until it answers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** apps/web, where server.mjs and .next are. */
export const APP = join(dirname(fileURLToPath(import.meta.url)), '..');
export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/**
 * This process's environment as a user's shell would hand it to `npm start` or the CLI: without
 * what Vitest sets for itself (NODE_ENV=test would make the gallery a development one).
 */
export function userEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([k]) => k !== 'NODE_ENV' && !k.startsWith('VITEST')),
  );
}

export const freePort = () =>
  new Promise<number>((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });

/** Runs a command to the end, its output on this terminal; rejects on a non-zero exit. */
export function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: APP, stdio: 'inherit', env: userEnv(), ...opts });
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}`)),
    );
  });
}

export interface Started {
  name: string;
  base: string;
  child: ChildProcess;
  /** SIGTERM, then the exit. */
  stop(): Promise<void>;
}

/** Starts a server process on a free port and waits (up to a minute) until GET /api/models answers. */
export async function startServer(
  name: string,
  cmd: string,
  args: (port: number) => string[],
  env: NodeJS.ProcessEnv,
  cwd = APP,
): Promise<Started> {
  const port = await freePort();
  const child = spawn(cmd, args(port), {
    cwd,
    env: { ...userEnv(), HOST: '127.0.0.1', ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const base = `http://127.0.0.1:${port}`;
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.on('exit', () => resolve());
      child.kill('SIGTERM');
    });
  for (let i = 0; i < 240; i++) {
    if (child.exitCode !== null) throw new Error(`${name} exited ${child.exitCode}: ${stderr}`);
    try {
      if ((await fetch(`${base}/api/models`)).ok) return { name, base, child, stop };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop();
  throw new Error(`${name} did not come up: ${stderr}`);
}

/** The gallery as `npm start` runs it: Next.js behind server.mjs, which hands in the socket's address. */
export const GALLERY = (): string[] => ['server.mjs'];
