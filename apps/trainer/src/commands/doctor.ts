/** `ganstudio doctor`: what can train here, and how to fix what cannot. */
import { doctor, formatChecks } from '../doctor';
import { defineCommand } from './flags';

export const doctorCommand = defineCommand({
  summary:
    'report which backends load, the CUDA/cuDNN libraries and GPU found, and how to fix what is missing',
  about: `Checks Node, the GPU (nvidia-smi), the CUDA 11.2 / cuDNN 8.1 libraries that
@tensorflow/tfjs-node-gpu 4.x needs, and each training backend, with a fix for each missing piece.
Exits 0: it is a report, not a gate (train --backend tensorflow-gpu is the gate).`,
  flags: { json: { kind: 'bool', help: 'one JSON line instead of the report' } },
  async run(v) {
    const checks = await doctor();
    process.stdout.write(v.json ? JSON.stringify(checks) + '\n' : formatChecks(checks) + '\n');
    return 0;
  },
});
