// Latency of one server-side re-render (model + seed → PNG) on Deno with tfjs' pure JS backend,
// for the bundled default generator (narrow DCGAN, ngf 32, uint8). Run: npx deno run -A bench-render.ts
import * as tf from '@tensorflow/tfjs-core';

import { createRenderer } from '@ganstudio/api';
import { buildGenerator, DEFAULT_DCGAN_CONFIG } from '@ganstudio/models/gan';
import { artifactsToFiles, modelToArtifacts, quantizeArtifacts } from '@ganstudio/models/weights';
import { createMemoryStore } from '@ganstudio/storage/memory';

await tf.setBackend('cpu');
const store = createMemoryStore();
const g = buildGenerator(DEFAULT_DCGAN_CONFIG);
const files = artifactsToFiles(quantizeArtifacts(await modelToArtifacts(g), 'uint8'));
g.dispose();
await store.put(
  'models/m/model.json',
  new TextEncoder().encode(JSON.stringify(files.modelJson)),
  'application/json',
);
await store.put('models/m/weights.bin', files.weights, 'application/octet-stream');
const renderer = createRenderer(store);
const model = { id: 'm', modelKey: 'models/m/model.json', latentDim: 100 };
let t = performance.now();
await renderer.render(model, 0);
const cold = performance.now() - t;
const warm: number[] = [];
for (let s = 1; s <= 10; s++) {
  t = performance.now();
  await renderer.render(model, s);
  warm.push(performance.now() - t);
}
warm.sort((a, b) => a - b);
console.log(
  `Deno ${Deno.version.deno}: cold (load + render) ${cold.toFixed(0)} ms, warm median ${warm[5]!.toFixed(0)} ms, min ${warm[0]!.toFixed(0)} ms`,
);
