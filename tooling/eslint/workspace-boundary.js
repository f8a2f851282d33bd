/**
 * `workspace/no-cross-root`: a relative import, re-export, dynamic import or `new URL(…,
 * import.meta.url)` must not land in another workspace (a folder with a package.json below the
 * monorepo's root). A path like '../web/bundled' ties two workspaces together in a way neither
 * package.json shows, and breaks as soon as one moves; another workspace is reached by its package
 * name. The monorepo's own files (docs/, .github/) are no workspace's and may be named.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const roots = new Map();

/** The nearest folder at or above `dir` holding a package.json. */
function workspaceRoot(dir) {
  if (!roots.has(dir))
    roots.set(
      dir,
      existsSync(join(dir, 'package.json')) || dirname(dir) === dir
        ? dir
        : workspaceRoot(dirname(dir)),
    );
  return roots.get(dir);
}

const manifests = new Map();

/** A workspace root's package.json, read once per lint run ({} where there is none). */
function manifestOf(root) {
  if (!manifests.has(root))
    manifests.set(
      root,
      existsSync(join(root, 'package.json'))
        ? JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
        : {},
    );
  return manifests.get(root);
}

const nameOf = (root) => manifestOf(root).name ?? root;
const isMonorepoRoot = (root) => 'workspaces' in manifestOf(root);

const noCrossRoot = {
  meta: {
    type: 'problem',
    docs: { description: 'relative paths stay inside their workspace' },
    schema: [],
    messages: {
      cross:
        "'{{path}}' reaches into {{target}} from {{root}}: import it by its package name and exports",
    },
  },
  create(context) {
    const here = dirname(context.filename);
    const root = workspaceRoot(here);
    const check = (node) => {
      if (node?.type !== 'Literal' || typeof node.value !== 'string') return;
      if (!node.value.startsWith('./') && !node.value.startsWith('../') && node.value !== '..')
        return;
      const target = workspaceRoot(resolve(here, node.value));
      if (target !== root && !isMonorepoRoot(target))
        context.report({
          node,
          messageId: 'cross',
          data: { path: node.value, root: nameOf(root), target: nameOf(target) },
        });
    };
    return {
      ImportDeclaration: (node) => check(node.source),
      ExportNamedDeclaration: (node) => check(node.source),
      ExportAllDeclaration: (node) => check(node.source),
      ImportExpression: (node) => check(node.source),
      NewExpression(node) {
        if (node.callee.type === 'Identifier' && node.callee.name === 'URL')
          check(node.arguments[0]);
      },
    };
  },
};

export default { rules: { 'no-cross-root': noCrossRoot } };
