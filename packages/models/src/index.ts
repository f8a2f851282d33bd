export * from './config';
export * from './dcgan';
export * from './gan';
export * from './image';
export * from './latent';
export * from './losses';
export * from './weights';
export * from './wasm-kernels';
