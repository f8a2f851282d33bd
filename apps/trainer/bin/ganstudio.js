#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so the workspace's TypeScript sources are the only build.
import { register } from 'tsx/esm/api';

register();
const { main, reportError } = await import('../src/cli.ts');
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.exitCode = reportError(err);
  },
);
