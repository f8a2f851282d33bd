/** What a fresh clone ships: every artifact the manifest names is there, whole, and machine-free. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

import { isMachinePath } from '@ganstudio/runs/folder';

import { bundledArtifacts, bundledPath, defaultRunPath } from './index';

const artifacts = bundledArtifacts();
const root = join(defaultRunPath(), '..');

describe('@ganstudio/bundled', () => {
  it('names one default model, and a folder for each artifact holding what its kind needs', () => {
    expect(artifacts.filter((a) => a.kind === 'default-model')).toHaveLength(1);
    expect(new Set(artifacts.map((a) => a.id)).size).toBe(artifacts.length);
    for (const { id, kind, path } of artifacts) {
      const needs =
        kind === 'real-set'
          ? ['real-set.json', 'images.bin']
          : kind === 'reference-run'
            ? ['config.json', 'metrics.jsonl', 'samples']
            : [
                'config.json',
                'metrics.jsonl',
                'samples',
                'generator-uint8/model.json',
                'card.json',
              ];
      expect(
        needs.filter((f) => !existsSync(join(path, f))),
        id,
      ).toEqual([]);
    }
    // The real set registers under the id its own file gives.
    const realSet = artifacts.find((a) => a.kind === 'real-set')!;
    const { id } = JSON.parse(readFileSync(join(realSet.path, 'real-set.json'), 'utf8')) as {
      id: string;
    };
    expect(id).toBe(realSet.id);
    expect(bundledPath('dcgan-cifar10')).toBe(defaultRunPath());
    expect(() => bundledPath('nope')).toThrow(/ships no artifact "nope"/);
  });

  it('ships no folder the manifest does not name (nothing registered by accident, nothing dead)', () => {
    const named = new Set(artifacts.map((a) => relative(root, a.path)));
    const onDisk = readdirSync(root, { withFileTypes: true })
      .filter(
        (e) => e.isDirectory() && !['src', 'node_modules', '.turbo', '.cache'].includes(e.name),
      )
      .flatMap((e) =>
        e.name === 'runs' ? readdirSync(join(root, 'runs')).map((r) => `runs/${r}`) : [e.name],
      );
    expect(onDisk.filter((d) => !named.has(d))).toEqual([]);
  });

  it('no file the gallery ships carries a path of the machine that made it', () => {
    const offenders: string[] = [];
    const visit = (value: unknown, where: string) => {
      if (typeof value === 'string' && isMachinePath(value)) offenders.push(`${where}: ${value}`);
      else if (value && typeof value === 'object')
        for (const [k, v] of Object.entries(value)) visit(v, `${where}.${k}`);
    };
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith('.json')) visit(JSON.parse(readFileSync(path, 'utf8')), path);
        else if (entry.name.endsWith('.jsonl'))
          readFileSync(path, 'utf8')
            .split('\n')
            .filter(Boolean)
            .forEach((line, i) => visit(JSON.parse(line), `${path}:${i + 1}`));
      }
    };
    for (const { path } of artifacts) walk(path);
    expect(offenders).toEqual([]);
  });
});
