/** `ganstudio real-set`: real CIFAR-10 test images for the gallery's judge game. */
import { MAX_SEED } from '@ganstudio/models/gan';

import { writeRealSet } from '../data/real-set';
import { defineCommand } from './flags';

export const realSetCommand = defineCommand({
  summary: "write a set of real CIFAR-10 test images for the gallery's judge game",
  about: `Chooses --count images of the CIFAR-10 test batch by a seeded permutation (never a training
image) and writes DIR/real-set.json (where they come from, their indices and classes) and
DIR/images.bin (RGB bytes). \`ganstudio upload --real-set DIR\` registers them in a gallery;
packages/bundled/real-set, registered on first start, is made this way.`,
  flags: {
    data: {
      kind: 'path',
      required: 'cifar-10-binary.tar.gz',
      help: 'cifar-10-binary.tar.gz or its extracted folder',
    },
    out: {
      kind: 'path',
      metavar: 'DIR',
      required: 'the folder to write',
      help: 'where to write the set',
    },
    count: { kind: 'int', min: 1, max: 10_000, default: 1000, help: 'images' },
    seed: { kind: 'int', min: 0, max: MAX_SEED, default: 0, help: "the permutation's seed" },
  },
  run(v) {
    const m = writeRealSet({ data: v.data, out: v.out, count: v.count, seed: v.seed });
    process.stderr.write(`wrote ${m.count} real images (${m.id}) to ${v.out}\n`);
    return Promise.resolve(0);
  },
});
