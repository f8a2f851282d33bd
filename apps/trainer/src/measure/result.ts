/**
 * How a measurement reads in a terminal: one line, the same in the training log, the end-of-run
 * summary and `eval`, each of which says beside it what was measured against what.
 */
import type { Measurement } from '@ganstudio/models/measurement';

/** A share 0–1 as "61.0%"; "—" when there is none. */
export const percent = (x: number | null | undefined): string =>
  x === null || x === undefined ? '—' : `${(100 * x).toFixed(1)}%`;

/**
 * "FID 2.195, IS 2.185 ± 0.047, KID 0.00847 ± 0.00065, precision 87.6%, recall 35.8%, copies
 * 0.1%, class fidelity 48.0%": each measure only where it was measured.
 */
export function resultLine(
  m: Omit<Measurement, 'passport' | 'copies'> & { copies?: number | null },
): string {
  return [
    `FID ${m.fid.toFixed(3)}`,
    m.is_mean !== undefined && `IS ${m.is_mean.toFixed(3)} ± ${(m.is_std ?? NaN).toFixed(3)}`,
    m.kid !== undefined && `KID ${m.kid.toFixed(5)} ± ${(m.kid_std ?? NaN).toFixed(5)}`,
    m.precision !== undefined && `precision ${percent(m.precision)}, recall ${percent(m.recall)}`,
    typeof m.copies === 'number' && `copies ${percent(m.copies)}`,
    m.class_fidelity !== undefined && `class fidelity ${percent(m.class_fidelity)}`,
  ]
    .filter((part): part is string => typeof part === 'string')
    .join(', ');
}
