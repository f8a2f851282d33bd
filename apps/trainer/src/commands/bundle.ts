/** `ganstudio bundle`: one epoch of a run, trimmed to what the gallery ships. */
import { selectBackend } from '../backend';
import { bundleRun } from '../training/bundle';
import { defineCommand, userPath } from './flags';
import { BACKEND_FLAG, weightsFlag } from './shared';

export const bundleCommand = defineCommand({
  summary: 'trim one epoch of a run to what the gallery ships (packages/bundled/default-run)',
  about: `Writes config.json, metrics.jsonl (the step lines up to the epoch, then the FID/IS of the chosen
weights at every epoch up to it), samples/epoch-NNNN.png drawn from those weights, the uint8
generator of the epoch and card.json: a folder \`upload\` and the gallery's first start read.
A FID the run logged for the same weights is copied; others are measured with the run's protocol
(its classifier and sample count, latent seed 0), which needs the CIFAR-10 file.`,
  positionals: { usage: '<run folder>', min: 1, max: 1, error: 'bundle takes one run folder' },
  flags: {
    out: {
      kind: 'path',
      metavar: 'DIR',
      required: 'the bundle folder',
      help: 'the bundle folder (its samples/ and generator-uint8/ are replaced)',
    },
    epoch: {
      kind: 'int',
      min: 1,
      defaultText: 'the newest kept in epochs/',
      help: "which epoch's weights ship",
    },
    weights: weightsFlag('which weights ship'),
    data: {
      kind: 'path',
      defaultText: "the run's",
      help: 'cifar-10-binary.tar.gz for FIDs to measure',
    },
    measure: { kind: 'bool', help: 'measure every FID, even those the run logged' },
    name: { kind: 'text', help: "card.json: the model's display name" },
    note: { kind: 'text', help: 'card.json: a line shown with the model' },
    carry: {
      kind: 'bool',
      help: 'carry the run: also write state/ (its whole training state at the end of that\nepoch: G, D, the EMA and both Adam states in float32), replacing any earlier one,\nso `train --carry-from` continues the run exactly on another machine',
    },
    backend: BACKEND_FLAG,
  },
  async run(v, [run]) {
    await selectBackend(v.backend);
    const r = await bundleRun({
      run: userPath(run ?? ''),
      out: v.out,
      ...(v.epoch ? { epoch: v.epoch } : {}),
      ...(v.weights ? { weights: v.weights } : {}),
      ...(v.data ? { data: v.data } : {}),
      measure: v.measure,
      ...(v.name ? { name: v.name } : {}),
      ...(v.note ? { note: v.note } : {}),
      carry: v.carry,
    });
    process.stderr.write(`bundled epoch ${r.epoch} (${r.weights} weights) to ${v.out}\n`);
    return 0;
  },
});
