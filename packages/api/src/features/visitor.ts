/**
 * The visitor identity: GET /api/visitor issues one (every page view asks), at most mintPerIp per
 * address, and says from when it counts; an identity it already holds is kept.
 */
import type { Core, Route } from '../core';
import { json } from '../http';
import { issueVisitor, visitorOfRequest, type VisitorId } from '../visitor';

export function visitorRoutes(core: Core): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/visitor',
      summary:
        'Issue or confirm the visitor identity (a cookie) → `{visitor: new|known, countsFrom}`. At most a few new identities an hour per address.',
      async handle(request, _params, f) {
        const isSecure = core.secure(request);
        const existing = await visitorOfRequest(request, core.secret, isSecure);
        const countsFrom = (v: VisitorId) =>
          new Date((v.issuedAt + core.rules.minAgeS) * 1000).toISOString();
        if (existing) return json({ visitor: 'known', countsFrom: countsFrom(existing) });
        await core.spend('new visitor', core.perAddress('mintPerIp', f));
        const fresh = await issueVisitor(core.secret, isSecure, core.now());
        return json({ visitor: 'new', countsFrom: countsFrom(fresh) }, 200, {
          'set-cookie': fresh.setCookie,
        });
      },
    },
  ];
}
