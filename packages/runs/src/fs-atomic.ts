/**
 * Crash-safe writes: data goes to a temp name in the same folder, is fsynced, then renamed over
 * the target (rename is atomic within one filesystem), so a reader — or a resume after SIGKILL —
 * sees the old file or the new one, never half of one.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

let counter = 0;

export function tempNameFor(path: string): string {
  return join(
    dirname(path),
    `.tmp-${process.pid}-${Date.now()}-${counter++}-${path.split('/').pop()}`,
  );
}

export function writeFileSyncDurable(path: string, data: Uint8Array | string): void {
  const fd = openSync(path, 'w');
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tempNameFor(path);
  writeFileSyncDurable(tmp, data);
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}

/** Makes a rename durable: without it a power cut can forget the new directory entry. */
export function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some filesystems refuse fsync on directories; the rename itself is still atomic.
  }
}
