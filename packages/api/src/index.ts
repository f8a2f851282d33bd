/**
 * The gallery API as one web-standard handler: Request → Response, JSON in and out, zod on every
 * input, a clear 4xx for bad input. Its routes live with their features (./features: each holds
 * its routes, schemas, access rule, queries and JSON shape); this file is the route table and the
 * dispatcher. Dependencies come in through createApi (db, blob store, renderer, cookie secret,
 * budget store; ./core), so the same code is mounted by Next.js and served by Deno (apps/edge),
 * and createGallery (./gallery) builds all of it from the settings (./settings). No Node built-ins.
 *
 * The routes, each with its summary, are listed in docs/api.md, written from this table
 * (`npm run docs -w @ganstudio/api`; `reference.test.ts` fails when it is stale).
 *
 * Who may do what (./core): a visitor identity issued by GET /api/visitor (a page view; at most
 * mintPerIp per client address) and at least `minAgeS` old, from a same-origin page, votes,
 * publishes and plays; at most `votersPerAddressPerImage` voters per address on one image.
 * Renders are gated per process and new images budgeted per site and per address. The client
 * address is the connection's own unless proxies are trusted (./address); judge answers count per
 * contributor (./features/judge).
 */
import { createCore, type ApiDeps, type GalleryHandler, type Route } from './core';
import { imageRoutes } from './features/images';
import { judgeRoutes } from './features/judge';
import { leaderboardRoutes } from './features/leaderboard';
import { modelRoutes } from './features/models';
import { visitorRoutes } from './features/visitor';
import { voteRoutes } from './features/votes';
import { DB_ERROR_STATUS, DbError, HttpError, problem } from './http';
import { GateFullError } from './render';

export { createRenderer, gateRenderer, GateFullError, type Renderer } from './render';
export * from './card';
export * from './address';
export * from './settings';
export * from './rate-limit';
export * from './visitor';
export { DbError, HttpError, json, MAX_BODY_BYTES, newId } from './http';
export { type ApiDeps, type GalleryHandler } from './core';
export { imageJson, imagePage, type ImageJson } from './features/image-list';
export { publishStarterSet } from './features/images';
export { pickModel } from './features/judge';
export {
  cappedWeights,
  humanScore,
  type HumanScore,
  type NetworkTally,
} from './features/human-score';
export { humanScores, isRanked, leaderboard, networksByModel } from './features/leaderboard';
export { modelJson } from './features/models';
export * from './policy';

/** Every route of the gallery API, feature by feature. */
function routes(core: ReturnType<typeof createCore>): Route[] {
  return [
    ...visitorRoutes(core),
    ...modelRoutes(core),
    ...imageRoutes(core),
    ...voteRoutes(core),
    ...judgeRoutes(core),
    ...leaderboardRoutes(core),
  ];
}

/**
 * The route table without a gallery behind it, for docs/api.md: routes capture their core in
 * closures and touch it only when called.
 */
export function routeTable(): Pick<Route, 'method' | 'path' | 'summary'>[] {
  return routes({} as ReturnType<typeof createCore>).map(({ method, path, summary }) => ({
    method,
    path,
    summary,
  }));
}

/** A route's path pattern as a matcher: `:name` matches one segment and is handed over decoded-free (ids are checked by the route). */
function matcher(path: string): (pathname: string) => Record<string, string> | undefined {
  const names: string[] = [];
  const re = new RegExp(
    `^${path.replace(/[.]/g, '\\.').replace(/:(\w+)/g, (_m, name: string) => (names.push(name), '([^/]+)'))}$`,
  );
  return (pathname) => {
    const m = re.exec(pathname);
    return m ? Object.fromEntries(names.map((n, i) => [n, m[i + 1] ?? ''])) : undefined;
  };
}

/** Longer request URLs are refused (414) before any work: no route takes more than a cursor. */
export const MAX_URL_BYTES = 8 * 1024;

/**
 * `path` without its trailing slashes, in one pass from the end. A regex (/\/+$/) backtracks
 * quadratically on `/api` + many slashes + `x`: 60,000 slashes held the edge's only thread 1.3 s.
 */
function withoutTrailingSlashes(path: string): string {
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 0x2f) end--;
  return path.slice(0, end);
}

/**
 * The gallery API as one handler: the route table of ./features, dispatched by path and method;
 * 405 with Allow for a known path and another method, 404 for an unknown one.
 */
export function createApi(deps: ApiDeps): GalleryHandler {
  const core = createCore(deps);
  const table = routes(core).map((r) => ({ ...r, match: matcher(r.path) }));
  return async function handle(request: Request, peer?: string): Promise<Response> {
    if (request.url.length > MAX_URL_BYTES)
      return problem(
        new HttpError(414, 'uri_too_long', `URLs are limited to ${MAX_URL_BYTES} bytes`),
      );
    const path = withoutTrailingSlashes(new URL(request.url).pathname);
    try {
      const found = table.flatMap((route) => {
        const params = route.match(path);
        return params ? [{ route, params }] : [];
      });
      if (!found.length) throw new HttpError(404, 'not_found', 'no such endpoint');
      const hit = found.find((m) => m.route.method === request.method);
      if (!hit) {
        const allow = [...new Set(found.map((m) => m.route.method))].join(', ');
        throw new HttpError(405, 'method_not_allowed', `${allow} only`, { allow });
      }
      return await hit.route.handle(request, hit.params, core.from(request, peer));
    } catch (err) {
      if (err instanceof HttpError) return problem(err);
      // Renders beyond the gate's slots and queue are refused at once, never queued without bound.
      if (err instanceof GateFullError)
        return problem(
          new HttpError(503, 'busy', 'the server is rendering at capacity; retry in 1 s', {
            'retry-after': '1',
          }),
        );
      if (err instanceof DbError)
        return problem(new HttpError(DB_ERROR_STATUS[err.code], err.code, err.message));
      // One line per failure; the stack only when asked for (DEBUG=1), so bad traffic cannot flood the log.
      if (core.debug) console.error('api error', request.method, path, err);
      else
        console.error(
          `api error: ${request.method} ${path}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
        );
      return problem(new HttpError(500, 'internal', 'something went wrong; nothing was changed'));
    }
  };
}
