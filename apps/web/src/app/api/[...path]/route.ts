// Mounts the web-standard API handler (@ganstudio/api); no logic lives here.
import { getContext } from '~/server/context';
import { peerAddress } from '~/server/peer';

export const dynamic = 'force-dynamic';

async function handle(request: Request): Promise<Response> {
  return (await getContext()).api(request, peerAddress(request));
}

export { handle as GET, handle as POST, handle as PUT, handle as DELETE, handle as PATCH };
