#!/usr/bin/env node
// `npm audit --omit=dev --audit-level=high` for CI, which fails on any high or critical advisory
// in what the project ships. A registry whose audit endpoint does not answer (a mirror that
// refuses POSTs, as on the development VMs) is not a finding: it is said in one line and passes,
// unless AUDIT_REQUIRED=1 (GitHub's CI sets it: there the endpoint answers, so silence is an error).
//   node .ci/audit.mjs [--from report.json]   (--from: check a saved `npm audit --json` report)
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const from = process.argv.indexOf('--from');
const text =
  from > 0
    ? readFileSync(process.argv[from + 1], 'utf8')
    : spawnSync('npm', ['audit', '--omit=dev', '--audit-level=high', '--json'], {
        encoding: 'utf8',
        maxBuffer: 64 << 20,
      }).stdout;
let report;
try {
  report = JSON.parse(text);
} catch {
  report = { statusCode: 'unparsable output' };
}
const counts = report.metadata?.vulnerabilities;
if (!counts) {
  const why = report.statusCode ? `HTTP ${report.statusCode}` : (report.error?.code ?? 'no report');
  console.log(
    `audit: the registry's audit endpoint did not answer (${why}); dependencies not checked here`,
  );
  process.exit(process.env.AUDIT_REQUIRED === '1' ? 1 : 0);
}
const serious = Object.entries(report.vulnerabilities ?? {}).filter(
  ([, v]) => v.severity === 'high' || v.severity === 'critical',
);
for (const [name, v] of serious)
  console.log(`audit: ${v.severity}: ${name} ${v.range ?? ''}`.trim());
console.log(
  `audit: ${counts.critical ?? 0} critical, ${counts.high ?? 0} high, ${counts.moderate ?? 0} moderate, ${counts.low ?? 0} low (production dependencies)`,
);
process.exit(serious.length ? 1 : 0);
