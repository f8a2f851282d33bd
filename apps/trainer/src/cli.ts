/**
 * ganstudio: the GAN Studio trainer CLI (the commands are in ./commands, one file each).
 *   npm run train -- --epochs 5            (CIFAR-10 downloaded once; --data PATH for a copy or your images)
 *   npm run cli -- sample --model runs/my-run --seed 7 --out grid.png
 * The only file that touches argv and process.exit (side effects stay at the edges).
 */
import { pathToFileURL } from 'node:url';

import { RunFolderError } from '@ganstudio/runs/folder';

import { releaseBackend } from './backend';
import { commands } from './commands/index';
import { UserError } from './errors';

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) throw new UserError(`unknown command "${name}"; run with --help for the list`, 2);
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.help(name) + '\n');
    return 0;
  }
  try {
    return await command.run(rest);
  } finally {
    releaseBackend(); // wasm pthread workers would otherwise keep the process alive
  }
}

function usage(): string {
  const lines = Object.entries(commands).map(([n, c]) => `  ${n.padEnd(17)} ${c.summary}`);
  return `usage: ganstudio <command> [flags]\n\ncommands:\n${lines.join('\n')}\n\nRun "ganstudio <command> --help" for its flags.\n`;
}

/** One line on stderr, no stack (unless DEBUG is set), and a non-zero exit. */
export function reportError(err: unknown): number {
  if (err instanceof UserError || err instanceof RunFolderError) {
    process.stderr.write(`error: ${err.message}\n`);
    return err instanceof UserError ? err.exitCode : 1;
  }
  const e = err as Error;
  process.stderr.write(`error: ${e?.message ?? String(err)}\n`);
  if (process.env['DEBUG']) process.stderr.write(`${e?.stack ?? ''}\n`);
  else process.stderr.write('(set DEBUG=1 for the stack trace)\n');
  return 1;
}

const isEntry =
  import.meta.url === pathToFileURL(process.argv[1] ?? '').href ||
  process.argv[1]?.endsWith('/cli.ts');
if (isEntry) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.exitCode = reportError(err);
    },
  );
}
