import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { routeTable } from './index';
import { apiReference } from './reference';

const committed = readFileSync(new URL('../../../docs/api.md', import.meta.url), 'utf8');

describe('docs/api.md', () => {
  it('is what the route table says today (regenerate: npm run docs -w @ganstudio/api)', () => {
    expect(committed).toBe(apiReference());
  });

  it('lists every route the handler serves, each with a summary', () => {
    const routes = routeTable();
    expect(routes.length).toBeGreaterThanOrEqual(12);
    for (const r of routes) {
      expect(r.summary.length, `${r.method} ${r.path}`).toBeGreaterThan(10);
      expect(committed).toContain(`| \`${r.method}\` | \`${r.path}\` |`);
    }
    expect(committed).toContain('`/api/judge/:trialId/image`');
  });
});
