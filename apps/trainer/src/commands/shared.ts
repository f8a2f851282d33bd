/** Flags and reports the commands share: the backend, one sitting of training, its summary. */
import { join } from 'node:path';

import type { BestRecord } from '@ganstudio/runs/format';

import { BACKENDS } from '../backend';
import { UserError } from '../errors';
import type { EvalResult } from '../measure/evaluate';
import { resultLine } from '../measure/result';
import { userPath, type Flag } from './flags';

export const BACKEND_FLAG = {
  kind: 'choice',
  choices: BACKENDS,
  default: 'auto',
  metavar: 'NAME',
  help: BACKENDS.join('|'),
} as const satisfies Flag;

/** One sitting of a training command: where, whether to resume, how far. */
export const SITTING_FLAGS = {
  resume: { kind: 'bool', help: 'continue the run in --out from its last checkpoint' },
  backend: BACKEND_FLAG,
  limit: { kind: 'int', min: 1, help: 'train on the first N images only (smoke runs)' },
  'max-steps': {
    kind: 'int',
    min: 1,
    help: 'stop after N steps in this sitting (resumable)',
  },
} as const satisfies Record<string, Flag>;

/** raw | ema: which generator weights of a run a command takes (default: EMA when tracked). */
export const weightsFlag = (help: string) =>
  ({
    kind: 'choice',
    choices: ['raw', 'ema'],
    defaultText: 'ema when the run tracked one, else raw',
    help,
  }) as const satisfies Flag;

export function outFlag(prefix: string) {
  return {
    kind: 'text',
    metavar: 'DIR',
    defaultText: `runs/${prefix}-<date>-<time>`,
    help: 'run folder',
  } as const satisfies Flag;
}

/** What train() and trainClassifier() take besides the recipe. */
export function sittingOf(
  v: {
    out: string | undefined;
    resume: boolean;
    backend: (typeof BACKENDS)[number];
    'max-steps': number | undefined;
  },
  prefix: string,
) {
  if (v.resume && !v.out) throw new UsageError('--resume needs --out <run folder>');
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return {
    out: userPath(v.out ?? join('runs', `${prefix}-${stamp}`)),
    resume: v.resume,
    backend: v.backend,
    ...(v['max-steps'] === undefined ? {} : { maxSteps: v['max-steps'] }),
  };
}

/** A flag combination that cannot work: exit 2, like a parse error. */
export class UsageError extends UserError {
  constructor(message: string) {
    super(message, 2);
  }
}

export function reportSitting(
  r: {
    finished: boolean;
    finalStep: number;
    totalSteps: number;
    backend: { resolved: string };
    exportDir?: string;
    exportBytes?: number;
    finalFid?: EvalResult;
    bestFid?: BestRecord;
  },
  out: string,
  command = 'train',
): number {
  const lines = [
    `${r.finished ? 'finished' : 'stopped'} at step ${r.finalStep}/${r.totalSteps} on ${r.backend.resolved}`,
    `  run folder:  ${out}`,
  ];
  if (r.bestFid)
    lines.push(
      `  best FID:    ${r.bestFid.fid.toFixed(3)} at epoch ${r.bestFid.epoch} (${r.bestFid.feature_network} features, ${r.bestFid.samples} samples; generator-best/)`,
    );
  if (r.finalFid)
    lines.push(
      `  final:       ${resultLine(r.finalFid)} (${r.finalFid.feature_network} features, ${r.finalFid.samples} samples)`,
    );
  if (r.exportDir)
    lines.push(
      `  generator:   ${r.exportDir} (uint8, ${((r.exportBytes ?? 0) / 2 ** 20).toFixed(2)} MiB)`,
      '  next:',
      `    npx ganstudio sample --model ${out} --seed 7 --out grid.png`,
      `    npx ganstudio upload ${out} --data-dir <the gallery's data folder>`,
    );
  if (!r.finished) lines.push(`  continue:    npx ganstudio ${command} --resume --out ${out}`);
  process.stderr.write(lines.join('\n') + '\n');
  return 0;
}
