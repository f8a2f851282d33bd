/**
 * docs/api.md, written from the route table itself (`npm run docs -w @ganstudio/api`), so the
 * reference lists exactly the routes the handler serves; reference.test.ts fails when it is stale.
 */
import { routeTable } from './index';

export function apiReference(): string {
  const rows = routeTable().map(
    (r) => `| \`${r.method}\` | \`${r.path}\` | ${r.summary.replace(/\|/g, '\\|')} |`,
  );
  return [
    '# Gallery API reference',
    '',
    "For anyone calling the gallery's API from a script or another front end. Generated from the",
    'route table (`packages/api/src/index.ts`) by `npm run docs -w @ganstudio/api`: do not edit',
    'by hand. JSON in and out; bad input is one 4xx `{error: {code, message}}`; writes need a visitor',
    'identity from `GET /api/visitor` and a same-origin page (docs/reliability.md says why).',
    '',
    '| method | path | what |',
    '| --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
