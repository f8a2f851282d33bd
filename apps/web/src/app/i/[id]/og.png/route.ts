// The share image (1200×630, the sample upscaled ×16): built once per image and kept in the blob
// store by the API (@ganstudio/api, createCardCache), so this route only mounts it.
import { getContext } from '~/server/context';

export const dynamic = 'force-dynamic';

export async function GET(request: Request) {
  return (await getContext()).api(request);
}
