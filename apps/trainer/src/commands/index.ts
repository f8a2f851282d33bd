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
