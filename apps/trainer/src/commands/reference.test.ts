import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { commands } from './index';
import { cliReference } from './reference';

const committed = readFileSync(new URL('../../../../docs/cli.md', import.meta.url), 'utf8');

describe('docs/cli.md', () => {
  it('is what the flag tables say today (regenerate: npm run docs -w @ganstudio/trainer)', () => {
    expect(committed).toBe(cliReference());
  });

  it('documents every command and every listed flag of each', () => {
    for (const [name, command] of Object.entries(commands)) {
      expect(committed).toContain(`## ${name}\n`);
      for (const flag of command.help(name).matchAll(/^ {2}(--[a-z0-9-]+)/gm))
        expect(committed).toContain(flag[1]);
    }
  });
});
