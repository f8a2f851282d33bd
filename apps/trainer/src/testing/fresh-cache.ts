/**
 * Feature caches are keyed by content in one user folder, so test files with the same fixture
 * would share them and a test of "computing reference statistics" would find them made. Each test
 * file (one process: the forks pool) gets a cache folder of its own instead.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

process.env['GANSTUDIO_CACHE'] = mkdtempSync(join(tmpdir(), 'ganstudio-cache-'));
