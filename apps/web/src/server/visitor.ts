import 'server-only';

import { cookies } from 'next/headers';

import { SECURE_VISITOR_COOKIE, VISITOR_COOKIE, visitorOfCookie } from '@ganstudio/api';

/** The visitor id of this request's cookie, if any, to show their own votes (pages only read; /api/visitor issues). */
export async function pageVisitorId(secret: string): Promise<string | undefined> {
  const jar = await cookies();
  const value = jar.get(SECURE_VISITOR_COOKIE)?.value ?? jar.get(VISITOR_COOKIE)?.value;
  return (await visitorOfCookie(value, secret))?.id;
}
