/**
 * metrics.jsonl: one JSON object per logged step. Lines are appended whole (one write each); on
 * resume, lines past the checkpoint's step and a torn last line are cut, so a crash never leaves
 * duplicated or half-written records.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from './fs-atomic';

export interface StepRecord {
  type: 'step';
  epoch: number;
  step: number;
  d_loss: number;
  g_loss: number;
  /** Mean D(x) on the real batch (sigmoid of the logit). */
  d_x: number;
  /** Mean D(G(z)) on the fake batch before the D update. */
  d_g_z: number;
  images_per_sec: number;
  elapsed_s: number;
}

export type MetricRecord = StepRecord | ({ type: string; step: number } & Record<string, unknown>);

export function readMetrics(path: string): MetricRecord[] {
  if (!existsSync(path)) return [];
  const out: MetricRecord[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as MetricRecord);
    } catch {
      break; // a torn final line from a crash mid-append
    }
  }
  return out;
}

/** Keeps only records up to `step` (inclusive) and rewrites the file atomically. */
export function truncateMetrics(path: string, step: number): number {
  const kept = readMetrics(path).filter((r) => r.step <= step);
  writeFileAtomic(path, kept.map((r) => JSON.stringify(r) + '\n').join(''));
  return kept.length;
}

export function appendMetric(path: string, record: MetricRecord): void {
  appendFileSync(path, JSON.stringify(record) + '\n');
}
