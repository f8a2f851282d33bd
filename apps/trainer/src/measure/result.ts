/** How a measurement reads in a terminal: the training log, the end-of-run summary and `eval`. */
import type { Measurement } from '@ganstudio/models/measurement';

/** A share 0–1 as "61.0%"; "—" when there is none. */
export const percent = (x: number | null | undefined): string =>
  x === null || x === undefined ? '—' : `${(100 * x).toFixed(1)}%`;

/**
 * The measures after FID and IS, in one line: "KID 0.01234 ± 0.00056, precision 61.0%,
 * recall 35.8%, copies 0.1%, class fidelity 48.0%", each only where measured ('' for none).
 */
export function measuresLine(m: Omit<Measurement, 'fid' | 'passport'>): string {
  return [
    m.kid !== undefined && `KID ${m.kid.toFixed(5)} ± ${(m.kid_std ?? NaN).toFixed(5)}`,
    m.precision !== undefined && `precision ${percent(m.precision)}, recall ${percent(m.recall)}`,
    m.copies !== undefined && `copies ${percent(m.copies)}`,
    m.class_fidelity !== undefined && `class fidelity ${percent(m.class_fidelity)}`,
  ]
    .filter((part): part is string => typeof part === 'string')
    .join(', ');
}
