/** A one-line progress bar on a TTY (images/s, ETA, latest losses); plain log lines otherwise (CI, pipes, turbo). */

export interface ProgressUpdate {
  step: number;
  totalSteps: number;
  epoch: number;
  epochs: number;
  imagesPerSec: number;
  /** Latest figures, printed in order as `name value` (e.g. d_loss, g_loss). */
  figures: Record<string, number>;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h
    ? `${h}h${String(m).padStart(2, '0')}m`
    : m
      ? `${m}m${String(s % 60).padStart(2, '0')}s`
      : `${s}s`;
}

export function describeProgress(u: ProgressUpdate, batchSize: number): string {
  const eta = ((u.totalSteps - u.step) * batchSize) / u.imagesPerSec;
  return (
    `epoch ${u.epoch + 1}/${u.epochs} step ${u.step}/${u.totalSteps} ` +
    `${u.imagesPerSec.toFixed(1)} img/s ETA ${formatDuration(eta)}` +
    Object.entries(u.figures)
      .map(([name, value]) => ` ${name} ${value.toFixed(4)}`)
      .join('')
  );
}

export class Progress {
  private lastDraw = 0;
  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly batchSize: number,
    private readonly tty = Boolean(stream.isTTY) && !process.env['CI'],
  ) {}

  /** Called every logged step. */
  update(u: ProgressUpdate): void {
    const text = describeProgress(u, this.batchSize);
    if (!this.tty) {
      this.stream.write(text + '\n');
      return;
    }
    const now = Date.now();
    if (now - this.lastDraw < 100 && u.step < u.totalSteps) return;
    this.lastDraw = now;
    const width = 24;
    const filled = Math.round((u.step / u.totalSteps) * width);
    this.stream.write(`\r\x1b[2K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}`);
  }

  /** A message that must not be overwritten by the bar. */
  log(line: string): void {
    this.stream.write(this.tty ? `\r\x1b[2K${line}\n` : line + '\n');
  }

  done(): void {
    if (this.tty) this.stream.write('\n');
  }

  /**
   * Progress of a long phase that is not training (reference statistics, FID, …): `tick(done)`
   * after each batch. A bar with rate and ETA on a terminal; otherwise a plain line at every 20%
   * and at the end, so logs show a measurement moving rather than a silent pause.
   */
  phase(label: string, total: number, unit = 'images'): (done: number) => void {
    const started = performance.now();
    let nextPlain = 0.2;
    let lastDraw = 0;
    return (done) => {
      const seconds = (performance.now() - started) / 1000;
      const rate = done / Math.max(seconds, 1e-3);
      const text = `${label}: ${done}/${total} ${unit} (${Math.floor((100 * done) / total)}%), ${rate.toFixed(0)} ${unit}/s, ETA ${formatDuration((total - done) / rate)}`;
      if (!this.tty) {
        if (done / total + 1e-9 >= nextPlain || done >= total) {
          this.stream.write(text + '\n');
          while (nextPlain <= done / total + 1e-9) nextPlain += 0.2;
        }
        return;
      }
      const now = Date.now();
      if (now - lastDraw < 100 && done < total) return;
      lastDraw = now;
      const filled = Math.round((done / total) * 24);
      this.stream.write(
        `\r\x1b[2K[${'#'.repeat(filled)}${'.'.repeat(24 - filled)}] ${text}${done >= total ? '\n' : ''}`,
      );
    };
  }
}
