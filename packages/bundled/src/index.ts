/**
 * The artifacts a fresh clone ships, as manifest.json names them: the gallery registers them on
 * first start (seedBundled in @ganstudio/api), tests and benches read the files. Other workspaces
 * reach them only through these paths, never by a relative path into this folder.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * - `default-model`: the run whose generator the gallery serves by default (exactly one)
 * - `model`: another run published with its generator (the class-conditional one)
 * - `reference-run`: a run's config, lines and grids only, for /runs/compare
 * - `real-set`: the real images of the judge game (`ganstudio real-set`)
 */
export type ArtifactKind = 'default-model' | 'model' | 'reference-run' | 'real-set';

export interface BundledArtifact {
  /** The run id, or the real set's id, that the gallery registers it under. */
  id: string;
  kind: ArtifactKind;
  /** Absolute path of its folder on this machine. */
  path: string;
}

const KINDS: readonly ArtifactKind[] = ['default-model', 'model', 'reference-run', 'real-set'];

/**
 * This package's folder, where manifest.json and the artifacts' folders lie: two levels above this
 * file. Not `new URL('..', import.meta.url)`, which Next's bundler would take for an asset to copy.
 */
const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

/** Every shipped artifact in the manifest's order: the real set and reference runs first, the default last. */
export function bundledArtifacts(): BundledArtifact[] {
  const { artifacts } = JSON.parse(readFileSync(join(ROOT, 'manifest.json'), 'utf8')) as {
    artifacts: { id: string; kind: ArtifactKind; path: string }[];
  };
  return artifacts.map(({ id, kind, path }) => {
    if (!KINDS.includes(kind) || path.split('/').includes('..'))
      throw new Error(
        `manifest.json: ${id}: kind must be one of ${KINDS.join(', ')}, path inside the package`,
      );
    return { id, kind, path: join(ROOT, path) };
  });
}

/** The folder of one shipped artifact, by id (`bundledPath('dcgan-cifar10')`). */
export function bundledPath(id: string): string {
  const found = bundledArtifacts().find((a) => a.id === id);
  if (!found) throw new Error(`@ganstudio/bundled ships no artifact "${id}"`);
  return found.path;
}

/** The folder of the run the gallery serves by default. */
export function defaultRunPath(): string {
  const found = bundledArtifacts().find((a) => a.kind === 'default-model');
  if (!found) throw new Error('manifest.json names no default-model');
  return found.path;
}
