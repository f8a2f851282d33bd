import 'server-only';
import { cookies } from 'next/headers';
import { existingVisitor, VISITOR_COOKIE } from '@ganstudio/api';

/** The signed-in-by-cookie visitor of this request, if any (pages only read; the API issues cookies). */
export async function currentVisitor(secret: string): Promise<string | undefined> {
  return existingVisitor((await cookies()).get(VISITOR_COOKIE)?.value, secret);
}
