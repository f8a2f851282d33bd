/**
 * docs/cli.md, written from the command table itself (`npm run docs -w @ganstudio/trainer`), so
 * the reference says what --help says; cli-reference.test.ts fails when the file is stale.
 */
import { commands } from './index';

export function cliReference(): string {
  const toc = Object.entries(commands).map(
    ([name, c]) => `- [\`${name}\`](#${name}): ${c.summary}`,
  );
  const sections = Object.entries(commands).map(
    ([name, c]) => `## ${name}\n\n${c.summary}.\n\n\`\`\`text\n${c.help(name)}\n\`\`\``,
  );
  return [
    '# `ganstudio` command reference',
    '',
    'For anyone running the trainer. Generated from the flag tables by',
    '`npm run docs -w @ganstudio/trainer`: do not edit by hand. `ganstudio <command> --help` prints',
    'the same text.',
    '',
    ...toc,
    '',
    sections.join('\n\n'),
    '',
  ].join('\n');
}
