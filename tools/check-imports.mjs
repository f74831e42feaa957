#!/usr/bin/env node
/**
 * The import graph's rules, checked on every workspace's `src/` TypeScript (run by `npm run lint`):
 *
 *   1. no import cycle between files (relative imports, `import type` and `export ... from`
 *      included: a cycle of types is still two modules that cannot be understood apart);
 *   2. core's lower layers (src/parallel, src/fft, src/pixels) do not reach its higher ones
 *      (src/kernel, src/deconvolve), directly or through other files;
 *   3. no cycle between workspace packages (dependencies, devDependencies and
 *      optionalDependencies in package.json, and `@scope/name` imports in src/). peerDependencies
 *      are left out: core names the backends it loads by name at run time as optional peers.
 *
 * Imports are read with TypeScript's pre-processor (`ts.preProcessFile`), so import statements in
 * comments and strings do not count. A relative `./x.js` is the source `./x.ts`, as NodeNext has it.
 *
 *   node tools/check-imports.mjs [ROOT]     check ROOT (default: this repository); exit 1 on a problem
 *   node tools/check-imports.mjs --self-test  run the checker's own tests on small made-up trees
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

import ts from 'typescript';

/** Layer rules: files under a `from` folder must not reach files under a `to` folder. */
export const LAYER_RULES = [
  {
    name: "core's lower layers must not depend on its higher ones",
    from: ['packages/core/src/parallel/', 'packages/core/src/fft/', 'packages/core/src/pixels/'],
    to: ['packages/core/src/kernel/', 'packages/core/src/deconvolve/'],
  },
];

const SOURCE = /\.(ts|tsx|mts|cts)$/;
const DECLARATION = /\.d\.(ts|mts|cts)$/;

/** Forward slashes, relative to `root`: how files are named in reports and rules. */
const rel = (root, file) => relative(root, file).split(sep).join('/');

/** The workspace folders of `root`'s package.json (`dir/*` patterns and plain folders). */
function workspaceDirs(root) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const patterns = Array.isArray(pkg.workspaces) ? pkg.workspaces : (pkg.workspaces?.packages ?? []);
  const dirs = [];
  for (const pattern of patterns) {
    if (pattern.endsWith('/*')) {
      const parent = join(root, pattern.slice(0, -2));
      if (!existsSync(parent)) continue;
      for (const e of readdirSync(parent, { withFileTypes: true })) {
        if (e.isDirectory() && existsSync(join(parent, e.name, 'package.json'))) dirs.push(join(parent, e.name));
      }
    } else if (existsSync(join(root, pattern, 'package.json'))) {
      dirs.push(join(root, pattern));
    }
  }
  return dirs.sort();
}

function sourceFiles(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'dist') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) sourceFiles(p, out);
    else if (SOURCE.test(e.name) && !DECLARATION.test(e.name)) out.push(p);
  }
  return out;
}

/** Every specifier `file` imports or re-exports (static, type-only, side-effect, `import()`). */
function specifiers(file) {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return info.importedFiles.map((f) => f.fileName);
}

/** The source file a relative specifier names, if it is one of `files`. */
function resolveRelative(from, spec, files) {
  const base = resolve(dirname(from), spec);
  const candidates = [];
  const m = base.match(/\.(js|jsx|mjs|cjs)$/);
  if (m) {
    const stem = base.slice(0, -m[0].length);
    candidates.push(...{ js: ['.ts', '.tsx'], jsx: ['.tsx'], mjs: ['.mts'], cjs: ['.cts'] }[m[1]].map((ext) => stem + ext));
  }
  candidates.push(base, `${base}.ts`, `${base}.tsx`, join(base, 'index.ts'));
  return candidates.find((c) => files.has(c));
}

/** The package name a bare specifier names (`@scope/name/sub` → `@scope/name`). */
function packageOf(spec) {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Strongly connected components with a cycle (Tarjan), each as one concrete cycle of nodes. */
export function findCycles(graph) {
  let index = 0;
  const stack = [];
  const onStack = new Set();
  const indices = new Map();
  const low = new Map();
  const cycles = [];
  const strong = (v) => {
    indices.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indices.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v), indices.get(w)));
      }
    }
    if (low.get(v) === indices.get(v)) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? new Set()).has(v)) cycles.push(cycleIn(graph, new Set(component)));
    }
  };
  for (const v of [...graph.keys()].sort()) if (!indices.has(v)) strong(v);
  return cycles;
}

/** One cycle through a strongly connected `component`, from its first node (sorted) back to it. */
function cycleIn(graph, component) {
  const start = [...component].sort()[0];
  // Breadth-first from start's successors back to start, inside the component: a shortest cycle.
  const previous = new Map();
  const queue = [...(graph.get(start) ?? [])].filter((w) => component.has(w)).sort();
  for (const w of queue) previous.set(w, start);
  for (let i = 0; i < queue.length; i++) {
    const v = queue[i];
    if (v === start) break;
    for (const w of [...(graph.get(v) ?? [])].sort()) {
      if (!component.has(w) || previous.has(w)) continue;
      previous.set(w, v);
      queue.push(w);
    }
  }
  const path = [start];
  for (let v = previous.get(start); v !== start; v = previous.get(v)) path.unshift(v);
  path.unshift(start);
  return path;
}

/** A path from `from` to a node `to` accepts, through `graph` (breadth-first), or undefined. */
function pathTo(graph, from, accepts) {
  const previous = new Map([[from, undefined]]);
  const queue = [from];
  for (let i = 0; i < queue.length; i++) {
    const v = queue[i];
    if (v !== from && accepts(v)) {
      const path = [];
      for (let u = v; u !== undefined; u = previous.get(u)) path.unshift(u);
      return path;
    }
    for (const w of [...(graph.get(v) ?? [])].sort()) {
      if (previous.has(w)) continue;
      previous.set(w, v);
      queue.push(w);
    }
  }
  return undefined;
}

/**
 * Checks the repository at `root`: returns the problems found (empty: all rules hold) and what was
 * read.
 */
export function checkImports(root, rules = LAYER_RULES) {
  root = resolve(root);
  const problems = [];
  const workspaces = workspaceDirs(root).map((dir) => ({ dir, pkg: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }));
  const names = new Set(workspaces.map((w) => w.pkg.name));

  // Files and their relative imports.
  const files = new Set(workspaces.flatMap((w) => sourceFiles(join(w.dir, 'src'))));
  const fileGraph = new Map();
  const packageGraph = new Map(workspaces.map((w) => [w.pkg.name, new Set()]));
  let imports = 0;
  for (const w of workspaces) {
    const deps = { ...w.pkg.dependencies, ...w.pkg.devDependencies, ...w.pkg.optionalDependencies };
    for (const d of Object.keys(deps)) if (names.has(d) && d !== w.pkg.name) packageGraph.get(w.pkg.name).add(d);
    for (const file of sourceFiles(join(w.dir, 'src'))) {
      const key = rel(root, file);
      const targets = new Set();
      for (const spec of specifiers(file)) {
        imports++;
        if (spec.startsWith('.')) {
          const target = resolveRelative(file, spec, files);
          if (target) targets.add(rel(root, target));
        } else if (names.has(packageOf(spec)) && packageOf(spec) !== w.pkg.name) {
          packageGraph.get(w.pkg.name).add(packageOf(spec));
        }
      }
      fileGraph.set(key, targets);
    }
  }

  for (const cycle of findCycles(fileGraph)) problems.push(`import cycle: ${cycle.join(' -> ')}`);
  for (const rule of rules) {
    const under = (prefixes) => (f) => prefixes.some((p) => f.startsWith(p));
    const isFrom = under(rule.from);
    const isTo = under(rule.to);
    for (const file of [...fileGraph.keys()].sort()) {
      if (!isFrom(file)) continue;
      const path = pathTo(fileGraph, file, isTo);
      if (path) problems.push(`layers: ${rule.name}: ${path.join(' -> ')}`);
    }
  }
  for (const cycle of findCycles(packageGraph)) problems.push(`package cycle: ${cycle.join(' -> ')}`);
  return { problems, files: fileGraph.size, imports, packages: packageGraph.size };
}

function main(argv) {
  if (argv.includes('--self-test')) return selfTest();
  const root = argv.find((a) => !a.startsWith('-')) ?? join(dirname(fileURLToPath(import.meta.url)), '..');
  const { problems, files, imports, packages } = checkImports(root);
  if (problems.length > 0) {
    for (const p of problems) console.error(p);
    console.error(`check-imports: ${problems.length} problem(s) in ${files} files of ${packages} packages`);
    process.exitCode = 1;
    return;
  }
  console.log(`check-imports: ${files} files, ${imports} imports, ${packages} packages: no cycles, layers kept`);
}

/** The checker's tests (node:test) on small trees written to a temporary folder. */
async function selfTest() {
  const { test } = await import('node:test');
  const assert = await import('node:assert/strict');

  /** A repository with `packages/*` workspaces made of `files` (path → text). */
  const tree = (files) => {
    const root = mkdtempSync(join(tmpdir(), 'check-imports-'));
    const all = { 'package.json': JSON.stringify({ name: 'fixture', private: true, workspaces: ['packages/*'] }), ...files };
    for (const [path, text] of Object.entries(all)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    return root;
  };
  const pkg = (name, deps = {}, extra = {}) => JSON.stringify({ name, dependencies: deps, ...extra });
  const check = (files) => {
    const root = tree(files);
    try {
      return checkImports(root).problems;
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  };
  const core = (files) => ({ 'packages/core/package.json': pkg('@x/core'), ...files });

  test('a tree without cycles or upward imports passes', () => {
    assert.deepEqual(check(core({
      'packages/core/src/index.ts': "export { a } from './kernel/a.js';\nexport type { T } from './types.js';\n",
      'packages/core/src/types.ts': 'export type T = number;\n',
      'packages/core/src/kernel/a.ts': "import { fft } from '../fft/fft.js';\nimport type { T } from '../types.js';\nexport const a: T = fft();\n",
      'packages/core/src/fft/fft.ts': "import type { T } from '../types.js';\nexport const fft = (): T => 1;\n",
    })), []);
  });

  test('a cycle of two files is found, through .js specifiers of .ts sources', () => {
    assert.deepEqual(check(core({
      'packages/core/src/a.ts': "import { b } from './b.js';\nexport const a = b;\n",
      'packages/core/src/b.ts': "import { a } from './a.js';\nexport const b = a;\n",
    })), ['import cycle: packages/core/src/a.ts -> packages/core/src/b.ts -> packages/core/src/a.ts']);
  });

  test('type-only imports, re-exports and longer cycles count; a file importing itself too', () => {
    const problems = check({
      'packages/cli/package.json': pkg('@x/cli'),
      'packages/cli/src/cli.ts': "export type { Io } from './io.js';\nexport interface CliIO { out: string }\n",
      'packages/cli/src/io.ts': "import type { Run } from './run.js';\nexport type Io = Run;\n",
      'packages/cli/src/run.ts': "import type { CliIO } from './cli.js';\nexport type Run = CliIO;\n",
      'packages/cli/src/self.ts': "import('./self.js');\n",
    });
    assert.deepEqual(problems, [
      'import cycle: packages/cli/src/cli.ts -> packages/cli/src/io.ts -> packages/cli/src/run.ts -> packages/cli/src/cli.ts',
      'import cycle: packages/cli/src/self.ts -> packages/cli/src/self.ts',
    ]);
  });

  test('imports in comments and strings do not count', () => {
    assert.deepEqual(check(core({
      'packages/core/src/a.ts': "// import { b } from './b.js';\nexport const script = `import { b } from './b.js';`;\n",
      'packages/core/src/b.ts': "import { script } from './a.js';\nexport const b = script;\n",
    })), []);
  });

  test("a lower layer of core reaching kernel/ or deconvolve/ fails, directly or through another file", () => {
    const problems = check(core({
      'packages/core/src/parallel/worker.ts': "import { tile } from '../deconvolve/tile.js';\nexport const w = tile;\n",
      'packages/core/src/pixels/image.ts': "import { helper } from '../helper.js';\nexport const i = helper;\n",
      'packages/core/src/helper.ts': "import { k } from './kernel/k.js';\nexport const helper = k;\n",
      'packages/core/src/kernel/k.ts': "import { fft } from '../fft/fft.js';\nexport const k = fft;\n",
      'packages/core/src/fft/fft.ts': 'export const fft = 1;\n',
      'packages/core/src/deconvolve/tile.ts': "import { fft } from '../fft/fft.js';\nexport const tile = fft;\n",
    }));
    assert.equal(problems.length, 2);
    assert.match(problems[0], /^layers: .*: packages\/core\/src\/parallel\/worker\.ts -> packages\/core\/src\/deconvolve\/tile\.ts$/);
    assert.match(problems[1], /: packages\/core\/src\/pixels\/image\.ts -> packages\/core\/src\/helper\.ts -> packages\/core\/src\/kernel\/k\.ts$/);
  });

  test('a cycle between packages fails, through package.json or through imports; peers do not count', () => {
    assert.deepEqual(check({
      'packages/a/package.json': pkg('@x/a', { '@x/b': '*' }),
      'packages/b/package.json': pkg('@x/b', {}, { devDependencies: { '@x/a': '*' } }),
    }), ['package cycle: @x/a -> @x/b -> @x/a']);
    assert.deepEqual(check({
      'packages/a/package.json': pkg('@x/a', { '@x/b': '*' }),
      'packages/b/package.json': pkg('@x/b'),
      'packages/b/src/index.ts': "export type { A } from '@x/a/types';\n",
    }), ['package cycle: @x/a -> @x/b -> @x/a']);
    assert.deepEqual(check({
      'packages/a/package.json': pkg('@x/a', {}, { peerDependencies: { '@x/b': '*' } }),
      'packages/b/package.json': pkg('@x/b', { '@x/a': '*' }),
    }), []);
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main(process.argv.slice(2));
