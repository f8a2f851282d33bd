// Copies tfjs-backend-wasm's binaries into public/ so the studio's wasm fallback loads them from
// this site (no CDN): setWasmPaths('/tfjs-wasm/').
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const dist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
const out = join(import.meta.dirname, '..', 'public', 'tfjs-wasm');
mkdirSync(out, { recursive: true });
for (const f of readdirSync(dist).filter((f) => f.endsWith('.wasm')))
  copyFileSync(join(dist, f), join(out, f));
