/** scripts/linalg-wasm.mjs, for the test that checks the committed wasm against its source. */
export declare function compileLinalg(): Promise<Uint8Array>;
