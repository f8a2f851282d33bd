/**
 * Runs the WebAssembly SIMD kernels of assembly/linalg.ts (the 2048-d FID matrix part
 * in under 10 s; scalar JavaScript took 60 s). Engines without wasm SIMD get null and the
 * caller's scalar path.
 */
import { LINALG_WASM_BASE64 } from './linalg-wasm.generated';

// The few WebAssembly JS-API members used, declared here: the Node workspaces compile without the
// DOM library, which is where TypeScript declares them.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}
const wasmApi = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

interface LinalgExports {
  memory: WasmMemory;
  heapBase(): number;
  pivotedCholesky(a: number, l: number, n: number, tol: number, perm: number, done: number): number;
  atb(
    x: number,
    y: number,
    c: number,
    n: number,
    xp: number,
    xLower: number,
    yLower: number,
    upper: number,
  ): void;
  mirrorUpper(m: number, n: number): void;
  eigenvalues(w: number, n: number, d: number, e: number): number;
}

/** assembly/linalg.ts KC: rows per packed k-block of atb's scratch. */
const KC = 256;
const PAGE = 65536;

let compiled: object | null | undefined;

function linalgModule(): object | null {
  if (compiled === undefined) {
    try {
      if (!wasmApi) throw new Error('no WebAssembly');
      const raw = atob(LINALG_WASM_BASE64);
      compiled = new wasmApi.Module(Uint8Array.from(raw, (ch) => ch.charCodeAt(0)));
    } catch {
      compiled = null; // no WebAssembly or no SIMD
    }
  }
  return compiled;
}

/** Whether the SIMD kernels can run here. */
export function linalgWasmAvailable(): boolean {
  return linalgModule() !== null;
}

/**
 * Eigenvalues of M = Lᵀ·(P·C2·Pᵀ)·L with P·C1·Pᵀ = L·Lᵀ (see src/fid.ts), in a fresh instance whose memory
 * (4 padded n×n matrices: 128 MiB at n = 2048) is released with it. undefined: C1 is indefinite;
 * null: wasm unavailable. The matrices are padded to a multiple of 4 with zeros: zero rows and
 * columns only add zero eigenvalues.
 */
export function congruenceEigenvaluesWasm(
  c1: Float64Array,
  c2: Float64Array,
  n: number,
  tol: number,
): Float64Array | undefined | null {
  const module = linalgModule();
  if (!module) return null;
  const k = new wasmApi!.Instance(module).exports as LinalgExports;
  const np = Math.ceil(n / 4) * 4;
  const bytes = np * np * 8;
  const base = Math.ceil(k.heapBase() / 64) * 64;
  const [a, l, b, m] = [0, 1, 2, 3].map((i) => base + i * bytes) as [
    number,
    number,
    number,
    number,
  ];
  const xp = base + 4 * bytes;
  const d = xp + KC * np * 8;
  const e = d + np * 8;
  const perm = e + np * 8;
  const end = perm + np * 4;
  try {
    const missing = Math.ceil(end / PAGE) - k.memory.buffer.byteLength / PAGE;
    if (missing > 0) k.memory.grow(missing);
  } catch {
    return null; // not enough memory for the padded copies: the scalar path works in place
  }
  const heap = new Float64Array(k.memory.buffer);
  for (let i = 0; i < n; i++) heap.set(c1.subarray(i * n, i * n + n), a / 8 + i * np);
  if (!k.pivotedCholesky(a, l, np, tol, perm, d)) return undefined;
  // C2 permuted as C1 was (P·C2·Pᵀ) and transposed: atb forms Bᵀ·L, i.e. P·C2·Pᵀ·L as the scalar
  // path computes it. Padding rows (perm ≥ n) stay zero.
  const p = new Int32Array(k.memory.buffer, perm, np);
  for (let r = 0; r < np; r++) {
    const pr = p[r]!;
    if (pr >= n) continue;
    for (let c = 0; c < np; c++) {
      const pc = p[c]!;
      if (pc < n) heap[b / 8 + r * np + c] = c2[pc * n + pr]!;
    }
  }
  heap.fill(0, d / 8, d / 8 + np); // the Cholesky's scratch becomes the eigenvalues
  heap.fill(0, a / 8, a / 8 + np * np); // C1's copy becomes T = C2·L
  k.atb(b, l, a, np, xp, 0, 1, 0);
  k.atb(l, a, m, np, xp, 1, 0, 1); // M = Lᵀ·T, upper triangle
  k.mirrorUpper(m, np);
  if (!k.eigenvalues(m, np, d, e)) throw new RangeError('eigenvalue iteration did not converge');
  return heap.slice(d / 8, d / 8 + np);
}
