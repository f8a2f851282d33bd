/** `ganstudio export`: a generator as a quantized TF.js layers model. */
import { QUANTIZATIONS } from '@ganstudio/models/weights';
import { resolveGeneratorDir } from '@ganstudio/runs/folder';

import { selectBackend } from '../backend';
import { loadModel, saveModel } from '../training/model-io';
import { defineCommand } from './flags';

export const exportCommand = defineCommand({
  summary: 'export a generator (checkpoint or run) as a quantized TF.js layers model',
  flags: {
    model: {
      kind: 'path',
      required: 'a run folder, checkpoint folder or model folder',
      help: 'a run folder, checkpoint folder or model folder',
    },
    out: {
      kind: 'path',
      metavar: 'DIR',
      required: 'the folder to write',
      help: 'folder for model.json + weights.bin (loadable by stock tf.loadLayersModel)',
    },
    quantization: {
      kind: 'choice',
      choices: QUANTIZATIONS,
      default: 'uint8',
      help: 'weight format',
    },
  },
  async run(v) {
    await selectBackend('cpu');
    const source = resolveGeneratorDir(v.model);
    const generator = await loadModel(source);
    try {
      const files = await saveModel(generator, v.out, v.quantization, {
        source,
        quantization: v.quantization,
      });
      process.stderr.write(
        `wrote ${v.quantization} generator (${files.weights.byteLength} bytes of weights) to ${v.out}\n`,
      );
    } finally {
      generator.dispose();
    }
    return 0;
  },
});
