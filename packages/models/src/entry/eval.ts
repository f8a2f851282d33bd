/** `@ganstudio/models/eval`: feature networks, FID, IS, KID, precision/recall and copies (Node and browser; no I/O). */
export * from '../classifier';
export * from '../features';
export * from '../fid';
export * from '../linalg-wasm';
export * from '../sample-metrics';
export * from '../spread';
