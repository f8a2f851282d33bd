/**
 * Test fixture shared by the API suites (Node and Deno): a small untrained generator, exported
 * as uint8 into a blob store and registered as a model, ready for publish requests.
 */
import type { Db } from '@ganstudio/db/client';
import {
  buildGenerator,
  CIFAR10_CLASSES,
  DEFAULT_DCGAN_CONFIG,
  type Resolution,
} from '@ganstudio/models/gan';
import { encodePng } from '@ganstudio/models/image';
import { artifactsToFiles, modelToArtifacts, quantizeArtifacts } from '@ganstudio/models/weights';
import type { BlobStore } from '@ganstudio/storage';

import { insertModel } from './features/models';
import { insertRealSet } from './features/real-sets';

export async function seedTinyModel(
  db: Db,
  store: BlobStore,
  id: string,
  ngf = 4,
  resolution: Resolution = 32,
  classes?: string[],
): Promise<void> {
  const g = buildGenerator({
    ...DEFAULT_DCGAN_CONFIG,
    ngf,
    resolution,
    ...(classes ? { classes: classes.length } : {}),
  });
  const files = artifactsToFiles(
    quantizeArtifacts(await modelToArtifacts(g), 'uint8'),
    classes ? { classes } : undefined,
  );
  g.dispose();
  await store.put(
    `models/${id}/model.json`,
    new TextEncoder().encode(JSON.stringify(files.modelJson)),
    'application/json',
  );
  await store.put(`models/${id}/weights.bin`, files.weights, 'application/octet-stream');
  await insertModel(db, {
    id,
    name: id,
    epoch: 0,
    quantization: 'uint8',
    modelJsonUrl: `/blobs/models/${id}/model.json`,
    modelKey: `models/${id}/model.json`,
    sizeBytes: files.weights.byteLength,
    latentDim: DEFAULT_DCGAN_CONFIG.latentDim,
    resolution,
    classes: classes ?? null,
    isDefault: !classes,
  });
}

/** A visitor identity as a browser gets one (GET /api/visitor): the `name=value` to send as Cookie. */
export async function visitorCookie(
  api: (request: Request) => Promise<Response>,
  base: string,
  headers: Record<string, string> = {},
): Promise<string> {
  const res = await api(new Request(`${base}/api/visitor`, { headers }));
  const set = res.headers.get('set-cookie');
  if (res.status !== 200 || !set) throw new Error(`GET /api/visitor: ${res.status}, no cookie`);
  return set.split(';')[0]!;
}

/**
 * Stands in for the platform entry in tests: the connection's address, which a server entry reads
 * off the socket, is taken from this header (never read by the API itself).
 */
export const PEER_HEADER = 'x-test-peer';
export const withPeer =
  (api: (request: Request, peer?: string) => Promise<Response>) =>
  (request: Request): Promise<Response> =>
    api(request, request.headers.get(PEER_HEADER) ?? undefined);

/**
 * A real set for the judge game, registered as `id`: `count` noisy 32×32 images, each an
 * uncompressed PNG as the game serves them (more detail than a tiny untrained generator draws, so
 * a compressed PNG would be a different size). Returns their PNG bytes.
 */
export const CIFAR_CLASSES = [...CIFAR10_CLASSES];

export async function seedRealSet(db: Db, id: string, count: number): Promise<Uint8Array[]> {
  const items = Array.from({ length: count }, (_, i) => {
    const data = new Uint8Array(32 * 32 * 4).map((_, k) =>
      k % 4 === 3 ? 255 : (k * 7919 + i * 104729) % 251,
    );
    return { idx: i, label: i % 10, png: encodePng({ width: 32, height: 32, data }, { level: 0 }) };
  });
  await insertRealSet(
    db,
    { id, name: id, source: 'made in the test', classes: CIFAR_CLASSES },
    items,
  );
  return items.map((it) => it.png);
}
