/** scripts/linalg-wasm.mjs, for the test that checks the committed wasm against its source. */
export declare const GENERATED: string;
export declare function compileLinalg(): Promise<Uint8Array>;
export declare function generatedSource(bytes: Uint8Array): string;
