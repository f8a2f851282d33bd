#!/usr/bin/env node
/**
 * `npm run pack -w @ganstudio/trainer`: the CLI for machines where npm never ran (a GPU machine
 * with no internet): apps/trainer/dist/ganstudio-linux-x64.tar.gz holds ganstudio/cli.mjs (the
 * CLI and this workspace's packages bundled by esbuild into one ESM file) and, beside it, only the
 * files the packages it leaves out load from disk: tfjs's Node builds and wasm binaries, this
 * project's wasm thread worker, Dawn's dawn.node (linux-x64 only), sharp's libvips, PGlite's
 * Postgres, the database migrations and the shipped classifier's weights. With Node ≥ 20 and, for
 * --backend webgpu, a Vulkan driver: `tar xf ganstudio-linux-x64.tar.gz && node ganstudio/cli.mjs
 * doctor`.
 */
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const trainer = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(trainer, 'dist');
const stage = join(dist, 'ganstudio');
const tarball = join(dist, 'ganstudio-linux-x64.tar.gz');

/** A package's run-time files: no docs, types, maps, sources or install scripts. */
const runtime = (f) =>
  !/(^|\/)(README|LICENSE|CHANGELOG)[^/]*$|\.(md|map|d\.[cm]?ts)$/i.test(f) &&
  !/^(src|install|bin)\//.test(f);

/** The packages cli.mjs imports at run time instead of bundling, and the files each needs. */
const SHIPPED = {
  '@tensorflow/tfjs-core': (f) => f === 'dist/tf-core.node.js',
  '@tensorflow/tfjs-layers': (f) => f === 'dist/tf-layers.node.js',
  '@tensorflow/tfjs-backend-cpu': (f) => f === 'dist/tf-backend-cpu.node.js',
  '@tensorflow/tfjs-backend-webgpu': (f) => f === 'dist/tf-backend-webgpu.node.js',
  // Its Node build reads the .wasm beside it; the pthread workers load the wasm-out factories.
  '@tensorflow/tfjs-backend-wasm': (f) =>
    f === 'dist/tf-backend-wasm.node.js' ||
    /^dist\/[^/]+\.wasm$/.test(f) ||
    /^wasm-out\/[^/]+\.js$/.test(f),
  seedrandom: (f) => f.endsWith('.js'),
  webgpu: (f) => f === 'index.js' || f === 'dist/linux-x64/dawn.node',
  sharp: runtime,
  '@img/colour': runtime,
  'detect-libc': runtime,
  semver: runtime,
  '@img/sharp-linux-x64': runtime,
  '@img/sharp-libvips-linux-x64': runtime,
  '@electric-sql/pglite': (f) =>
    f.startsWith('dist/') && /\.(js|wasm|data)$/.test(f) && !f.endsWith('.map'),
};
/** This workspace's files read from disk at run time (bundled code finds them by package.json). */
const OWN = {
  '@ganstudio/models': (f) => f.startsWith('weights/cifar10-classifier/'),
  '@ganstudio/db': (f) => f.startsWith('drizzle/') && !f.startsWith('drizzle/meta/'),
};

function packageDir(name) {
  for (let dir = trainer; ; dir = dirname(dir)) {
    const at = join(dir, 'node_modules', name);
    if (existsSync(join(at, 'package.json'))) return at;
    if (dir === dirname(dir)) throw new Error(`${name} is not installed: run npm ci first`);
  }
}

/** Files under `dir` as relative paths; a package's nested node_modules only with `nested`. */
function filesUnder(dir, prefix = '', nested = false) {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((e) => {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.name === 'node_modules' && !nested) return [];
    return e.isDirectory() ? filesUnder(dir, rel, nested) : [rel];
  });
}

function ship(name, keep) {
  const from = packageDir(name);
  const to = join(stage, 'node_modules', name);
  const files = filesUnder(from).filter(keep);
  if (!files.length) throw new Error(`${name}: nothing to ship (its layout changed?)`);
  for (const f of ['package.json', ...files]) {
    mkdirSync(dirname(join(to, f)), { recursive: true });
    cpSync(join(from, f), join(to, f));
  }
}

rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
await build({
  entryPoints: [join(trainer, 'src', 'cli.ts')],
  outfile: join(stage, 'cli.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: [
    ...Object.keys(SHIPPED),
    '@tensorflow/tfjs-node',
    '@tensorflow/tfjs-node-gpu',
    'pg-native',
  ],
  // Bundled CommonJS (pg, drizzle's helpers) calls require; ESM has none of its own.
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __gsRequire } from 'node:module';\nconst require = __gsRequire(import.meta.url);",
  },
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [
    {
      // Bundled, every module's import.meta.url is cli.mjs's: the migrations ship beside it.
      name: 'migrations-beside-cli',
      setup(b) {
        b.onLoad({ filter: /packages\/db\/src\/client\.ts$/ }, (args) => {
          const source = readFileSync(args.path, 'utf8');
          const line = "join(dirname(fileURLToPath(import.meta.url)), '..', 'drizzle')";
          if (!source.includes(line)) throw new Error(`${args.path}: MIGRATIONS_FOLDER moved`);
          return {
            contents: source.replace(
              line,
              "join(dirname(fileURLToPath(import.meta.url)), 'node_modules', '@ganstudio', 'db', 'drizzle')",
            ),
            loader: 'ts',
          };
        });
      },
    },
  ],
});
cpSync(join(trainer, 'src', 'wasm-thread-worker.cjs'), join(stage, 'wasm-thread-worker.cjs'));
for (const [name, keep] of Object.entries(SHIPPED)) ship(name, keep);
for (const [name, keep] of Object.entries(OWN)) ship(name, keep);

rmSync(tarball, { force: true });
// Owner and times fixed, so the tarball carries nothing of the machine that made it.
execFileSync('tar', [
  '--sort=name',
  '--owner=0',
  '--group=0',
  '--numeric-owner',
  '--mtime=2026-01-01 00:00Z',
  '-czf',
  tarball,
  '-C',
  dist,
  'ganstudio',
]);
const mb = (bytes) => (bytes / 2 ** 20).toFixed(1);
const staged = filesUnder(stage, '', true).reduce((n, f) => n + statSync(join(stage, f)).size, 0);
process.stdout.write(
  `wrote ${relative(process.cwd(), tarball) || tarball}: ${mb(statSync(tarball).size)} MiB (${mb(staged)} MiB unpacked)\n`,
);
