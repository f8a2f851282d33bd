/** Every `ganstudio` command, in the order --help lists them: one file each, flags as data. */
import { benchCommand } from './bench';
import { bundleCommand } from './bundle';
import { doctorCommand } from './doctor';
import { evalCommand } from './eval';
import { exportCommand } from './export';
import type { Command } from './flags';
import { realSetCommand } from './real-set';
import { sampleCommand } from './sample';
import { trainCommand } from './train';
import { trainClassifierCommand } from './train-classifier';
import { uploadCommand } from './upload';

export type { Command };

/** `publish` was this command's name until "publish" came to mean one image in the gallery. */
const publishAlias: Command = {
  summary: 'old name of upload',
  help: (name) => uploadCommand.help(name),
  run(args) {
    process.stderr.write('note: `ganstudio publish` is now `ganstudio upload`\n');
    return uploadCommand.run(args);
  },
};

export const commands: Record<string, Command> = {
  train: trainCommand,
  sample: sampleCommand,
  export: exportCommand,
  eval: evalCommand,
  upload: uploadCommand,
  bundle: bundleCommand,
  'train-classifier': trainClassifierCommand,
  'real-set': realSetCommand,
  bench: benchCommand,
  doctor: doctorCommand,
};

/** Accepted, not listed. */
export const aliases: Record<string, Command> = { publish: publishAlias };
