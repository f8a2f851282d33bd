/** Writes docs/cli.md from the command table (see src/commands/reference.ts). */
import { writeFileSync } from 'node:fs';

import { cliReference } from '../src/commands/reference';

const target = new URL('../../../docs/cli.md', import.meta.url);
writeFileSync(target, cliReference());
process.stdout.write(`wrote ${target.pathname.split('/').slice(-2).join('/')}\n`);
