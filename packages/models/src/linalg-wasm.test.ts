import { describe, expect, it } from 'vitest';

import { compileLinalg } from '../scripts/linalg-wasm.mjs';
import { LINALG_WASM_BASE64 } from './linalg-wasm.generated';

describe('the WebAssembly SIMD kernels', () => {
  it('are exactly what assembly/linalg.ts compiles to (run `npm run build:wasm` after editing it)', async () => {
    const bytes = await compileLinalg();
    expect(LINALG_WASM_BASE64).toBe(btoa(String.fromCharCode(...bytes)));
  }, 60_000);
});
