/** `@ganstudio/models/gan`: the DCGAN, its training step and losses, seeded latents and sampling. */
export * from '../config';
export * from '../dcgan';
export * from '../gan';
export * from '../latent';
export * from '../losses';
export * from '../sample';
export * from '../spectral-norm';
