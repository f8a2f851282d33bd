/**
 * Test fixture shared by the API suites (Node and Deno): a small untrained generator, exported
 * as uint8 into a blob store and registered as a model, ready for publish requests.
 */
import type { Db } from '@ganstudio/db/client';
import { insertModel } from '@ganstudio/db/queries';
import { buildGenerator, DEFAULT_DCGAN_CONFIG, type Resolution } from '@ganstudio/models/gan';
import { artifactsToFiles, modelToArtifacts, quantizeArtifacts } from '@ganstudio/models/weights';
import type { BlobStore } from '@ganstudio/storage';

export async function seedTinyModel(
  db: Db,
  store: BlobStore,
  id: string,
  ngf = 4,
  resolution: Resolution = 32,
): Promise<void> {
  const g = buildGenerator({ ...DEFAULT_DCGAN_CONFIG, ngf, resolution });
  const files = artifactsToFiles(quantizeArtifacts(await modelToArtifacts(g), 'uint8'));
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
    isDefault: true,
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
