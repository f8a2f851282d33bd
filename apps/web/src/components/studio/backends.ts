/** tfjs backends the studio tries, in order; `?backend=` on /studio picks one (to compare or debug). */
export const BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type Backend = (typeof BACKENDS)[number];
