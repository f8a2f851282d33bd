/** `ganstudio sample`: a PNG grid of a generator's images of seeds s, s+1, … */
import { classIndex, MAX_SEED, MIN_TRUNCATION } from '@ganstudio/models/gan';
import { resolveGeneratorDir } from '@ganstudio/runs/folder';
import { writeFileAtomic } from '@ganstudio/runs/fs-atomic';

import { selectBackend } from '../backend';
import { UserError } from '../errors';
import { generatorClassNames, loadModel } from '../training/model-io';
import { sampleGridPng } from '../training/sampling';
import { defineCommand, userPath } from './flags';
import { BACKEND_FLAG } from './shared';

export const MODEL_FLAG = {
  kind: 'path',
  required: 'a model folder, checkpoint or run folder',
  help: 'a model folder (model.json + weights.bin), a checkpoint or a run folder',
} as const;

export const TRUNCATION_FLAG = {
  kind: 'number',
  min: MIN_TRUNCATION,
  default: Infinity,
  defaultText: 'off',
  help: `draw z from N(0, I) cut at ±X (≥ ${MIN_TRUNCATION}): cleaner, less varied samples`,
} as const;

export const sampleCommand = defineCommand({
  summary: 'write a PNG grid of samples from a saved generator and a seed',
  about: `Tile i is the image of seed s + i: the image the gallery's studio, share links and server
render show for that seed. A class-conditional generator draws every tile in --class, or
without it one row per class at the same seeds.`,
  flags: {
    model: MODEL_FLAG,
    seed: {
      kind: 'int',
      min: 0,
      max: MAX_SEED,
      default: 0,
      help: `latent seed of the first tile, 0…${MAX_SEED}`,
    },
    count: { kind: 'int', min: 1, max: 1024, default: 64, help: 'images in the grid' },
    scale: { kind: 'int', min: 1, max: 16, default: 2, help: 'integer pixel upscaling, crisp' },
    truncation: TRUNCATION_FLAG,
    class: {
      kind: 'text',
      metavar: 'NAME|N',
      help: "a class-conditional generator's class, by name (horse) or index (7)",
    },
    out: { kind: 'path', metavar: 'FILE', defaultText: 'samples-<seed>.png', help: 'PNG to write' },
    backend: BACKEND_FLAG,
  },
  async run(v) {
    const out = v.out ?? userPath(`samples-${v.seed}.png`);
    await selectBackend(v.backend);
    const dir = resolveGeneratorDir(v.model);
    const generator = await loadModel(dir);
    let what: string;
    try {
      const names = generatorClassNames(dir, generator);
      let cls: number | undefined;
      if (v.class !== undefined) {
        if (!names.length)
          throw new UserError(`${v.model}: an unconditional generator takes no --class`, 2);
        try {
          cls = classIndex(v.class, names);
        } catch (err) {
          throw new UserError(`--class: ${(err as Error).message}`, 2);
        }
      }
      writeFileAtomic(
        out,
        await sampleGridPng(generator, v.seed, v.count, v.scale, v.truncation, cls),
      );
      what =
        cls !== undefined
          ? `${v.count} samples of ${names[cls]} (seeds ${v.seed}…)`
          : names.length
            ? `one row per class (${names.join(', ')}), seeds ${v.seed}…`
            : `${v.count} samples (seeds ${v.seed}…)`;
    } finally {
      generator.dispose();
    }
    process.stderr.write(`wrote ${what} to ${out}\n`);
    return 0;
  },
});
