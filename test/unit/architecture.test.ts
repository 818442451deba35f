// Arrows go one way, and ARCHITECTURE.md says which: this test reads the rows of its `## Layers`
// block and the imports of every TypeScript file, and holds the one against the other. The rules
// live only there; the table-driven suites below pin how they and the imports are read.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { importSpecifiers } from '../helpers/import-scan.js';
import {
  type ImportTarget, type LayerRule, cycles, forbidden, layersBlock, moduleOf, parseLayers, resolveImport,
} from '../helpers/layer-rules.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Not source: installed packages, build output, test output, and every dot-folder (git, bench/.work). */
const SKIP = new Set(['node_modules', 'dist', 'test-artifacts']);
const TYPESCRIPT = /\.[mc]?tsx?$/;

function sourceFiles(dir = ROOT): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (SKIP.has(entry.name) || entry.name.startsWith('.')) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return TYPESCRIPT.test(entry.name) && !entry.name.endsWith('.d.ts') ? [relative(ROOT, path).split(sep).join('/')] : [];
  });
}

/** The rules, or why they could not be read (then every tree test sees no rules, and one says why). */
function readLayers(): { rules: LayerRule[]; error: string | null } {
  try {
    const block = layersBlock(readFileSync(join(ROOT, 'ARCHITECTURE.md'), 'utf8'));
    return { rules: parseLayers(block.text, block.firstLine), error: null };
  } catch (err) {
    return { rules: [], error: `ARCHITECTURE.md: ${(err as Error).message}` };
  }
}

const LAYERS = readLayers();
const RULES = LAYERS.rules;
const FILES = sourceFiles();
const IMPORTS = FILES.flatMap((file) =>
  importSpecifiers(readFileSync(join(ROOT, file), 'utf8')).map((specifier) => ({ file, specifier })));

function failWithList(title: string, lines: string[]): void {
  if (lines.length > 0) assert.unreachable(`${title} (${lines.length}):\n  ${lines.join('\n  ')}\n`);
}

function shown(target: ImportTarget): string {
  return target.kind === 'file' ? target.path : target.kind === 'package' ? target.name : `import(${target.specifier})`;
}

/** Each arrow the rules refuse, once, as `file -> target (why)`: to packages, or to anything else. */
function brokenArrows(packages: boolean): string[] {
  return [...new Set(IMPORTS.flatMap(({ file, specifier }) => {
    const target = resolveImport(file, specifier);
    const why = (target.kind === 'package') === packages ? forbidden(file, target, RULES) : null;
    return why === null ? [] : [`${file} -> ${shown(target)} (${why})`];
  }))];
}

const Tree = suite('the source tree against ARCHITECTURE.md § Layers');

Tree('the Layers block of ARCHITECTURE.md reads', () => {
  if (LAYERS.error !== null) assert.unreachable(LAYERS.error);
});

Tree('every import between modules is an arrow the layers allow', () => {
  failWithList('imports the layers forbid', brokenArrows(false));
});

Tree('every package a module imports is one its "uses" row allows', () => {
  failWithList('packages the layers forbid', brokenArrows(true));
});

Tree('every TypeScript file in the tree belongs to a module', () => {
  failWithList('files no row of the layers classifies', FILES.filter((file) => moduleOf(file, RULES) === undefined));
});

Tree('every folder and file the layers name exists', () => {
  const exists = (path: string) => {
    try {
      return statSync(join(ROOT, path)).isDirectory() === path.endsWith('/');
    } catch {
      return false;
    }
  };
  const missing = RULES.flatMap((rule) => [rule.module, ...rule.imports]
    .filter((path) => !exists(path))
    .map((path) => `${path} (ARCHITECTURE.md line ${rule.line}, the row of ${rule.module})`));
  failWithList('paths the layers name that are not in the tree (a folder must end in /, a file must not)', missing);
});

Tree('the layers go one way: no module may reach itself through the arrows they allow', () => {
  failWithList('cycles in the layers', cycles(RULES));
});

Tree.run();

const Layers = suite('parseLayers');

Layers('reads "->" rows, "nothing", "uses" rows, comments and indented continuations', () => {
  const rules = parseLayers([
    '# a comment',
    'core/      -> schemas/   # why core may',
    'core/      uses luxon, node:crypto',
    'schemas/   -> nothing',
    'main.ts    -> core/,',
    '              schemas/',
  ].join('\n'), 10);
  assert.equal(rules, [
    { module: 'core/', imports: ['schemas/'], packages: ['luxon', 'node:crypto'], line: 11 },
    { module: 'schemas/', imports: [], packages: null, line: 13 },
    { module: 'main.ts', imports: ['core/', 'schemas/'], packages: null, line: 14 },
  ]);
});

Layers('refuses rows it cannot read, naming the line', () => {
  const cases: [string, string, RegExp][] = [
    ['a row without an arrow', 'core/ schemas/', /line 1: expected "module -> modules"/],
    ['an empty list', 'core/ ->', /line 1: write "core\/ -> nothing"/],
    ['an empty list with only a comment after it', 'a/ -> b/\ncore/ ->   # none', /line 2: write "core\/ -> nothing"/],
    ['a module written twice', 'a/ -> b/\na/ -> c/', /line 2: a second "->" row for a\//],
    ['packages for a module with no arrows', 'a/ uses yaml', /"a\/ uses …" but no "a\/ -> …" row/],
    ['a continuation with nothing above', '  b/', /line 1: an indented row with no rule above/],
  ];
  for (const [name, text, error] of cases) assert.throws(() => parseLayers(text), error, name);
});

Layers('finds the fenced block of the "## Layers" section and its first line', () => {
  const markdown = '# Map\n\n## Layers\n\nProse.\n\n```text\na/ -> nothing\n```\n\n## Next\n';
  assert.equal(layersBlock(markdown), { text: 'a/ -> nothing', firstLine: 8 });
  assert.throws(() => layersBlock('# Map\n'), /no "## Layers" section/);
  assert.throws(() => layersBlock('## Layers\n\nProse.\n\n## Next\n```text\n```\n'), /has no fenced block/);
});

Layers.run();

const Scan = suite('importSpecifiers');

Scan('finds every form of import and re-export', () => {
  const cases: [string, string, string[]][] = [
    ['default and named', `import a, { b, type C } from './a.js';`, ['./a.js']],
    ['namespace', `import * as ns from "node:fs";`, ['node:fs']],
    ['side effect', `import './register.js';`, ['./register.js']],
    ['type only', `import type { T } from '../t.js';`, ['../t.js']],
    ['re-export', `export { a, b as c } from './a.js';`, ['./a.js']],
    ['re-export of types', `export type { T } from './t.js';`, ['./t.js']],
    ['re-export of all', `export * from './all.js'; export * as ns from './ns.js';`, ['./all.js', './ns.js']],
    ['over lines', `import {\n  a,\n  b,\n} from\n  './a.js'`, ['./a.js']],
    ['dynamic literal', `const m = await import('./m.js');`, ['./m.js']],
    ['dynamic template without substitution', 'await import(`./m.js`)', ['./m.js']],
    ['dynamic template prefix', 'import(`./commands/${name}.js`)', ['./commands/*']],
    ['dynamic computed', 'import(path)', ['*']],
    ['type position', `let x: typeof import('./t.js');`, ['./t.js']],
    ['import = require', `import fs = require('fs');`, ['fs']],
    ['require', `const x = require('yaml');`, ['yaml']],
  ];
  for (const [name, source, expected] of cases) assert.equal(importSpecifiers(source), expected, name);
});

Scan('ignores import-like text that is not an import', () => {
  const cases: [string, string][] = [
    ['a comment', `// import a from './a.js'\n/* export * from './b.js' */`],
    ['a string', `const s = "import a from './a.js'";`],
    ['a template', 'const s = `import a from ${"./a.js"} and import("./b.js")`;'],
    ['a regular expression', `const re = /import a from '.\\/a.js'/g;`],
    ['a quote in a regular expression', `const re = /['"]/; const t = "x";`],
    ['a local export', `export const from = 'x'; export default 'y';`],
    ['a class member named from', `export class C { from = './c.js'; }`],
    ['import.meta', `const u = new URL('./x.js', import.meta.url);`],
    ['a method named import', `loader.import('./x.js');`],
  ];
  for (const [name, source] of cases) assert.equal(importSpecifiers(source), [], name);
});

Scan('reads on after a template with substitutions and after a division', () => {
  const source = 'const s = `a ${b({ c: 1 })} d`; const r = x / 2 / y;\nimport z from "./z.js";';
  assert.equal(importSpecifiers(source), ['./z.js']);
});

Scan.run();

const Resolve = suite('resolveImport, moduleOf and forbidden');

Resolve('resolves relative specifiers to repository paths and bare ones to package names', () => {
  const cases: [string, string, ImportTarget][] = [
    ['agent/src/cli/index.ts', './output.js', { kind: 'file', path: 'agent/src/cli/output.ts' }],
    ['agent/src/cli/commands/run.ts', '../../core/plan.js', { kind: 'file', path: 'agent/src/core/plan.ts' }],
    ['test/unit/a.test.ts', '../../schemas/index.js', { kind: 'file', path: 'schemas/index.ts' }],
    ['bench/index.ts', './x.mjs', { kind: 'file', path: 'bench/x.mts' }],
    ['agent/src/cli/index.ts', './commands/*', { kind: 'file', path: 'agent/src/cli/commands/*' }],
    ['agent/src/core/plan.ts', 'node:fs/promises', { kind: 'package', name: 'node:fs' }],
    ['agent/src/core/plan.ts', 'child_process', { kind: 'package', name: 'node:child_process' }],
    ['agent/src/core/plan.ts', 'lowdb/node', { kind: 'package', name: 'lowdb' }],
    ['agent/src/core/plan.ts', '@koa/router', { kind: 'package', name: '@koa/router' }],
    ['agent/src/core/plan.ts', 'ajv/dist/2020.js', { kind: 'package', name: 'ajv' }],
    ['agent/src/cli/index.ts', '*', { kind: 'unknown', specifier: '*' }],
  ];
  for (const [from, specifier, expected] of cases) assert.equal(resolveImport(from, specifier), expected, `${from} ${specifier}`);
});

const SMALL = parseLayers([
  'schemas/       -> nothing',
  'core/          -> schemas/',
  'core/          uses luxon',
  'core/pure/     -> schemas/',
  'cli/           -> core/',
  'main.ts        -> cli/',
].join('\n'));

Resolve('a path belongs to the longest module that holds it', () => {
  const cases: [string, string | undefined][] = [
    ['core/plan.ts', 'core/'],
    ['core/pure/x.ts', 'core/pure/'],
    ['main.ts', 'main.ts'],
    ['main.tsx', undefined],
    ['other/x.ts', undefined],
  ];
  for (const [path, module] of cases) assert.is(moduleOf(path, SMALL)?.module, module, path);
});

Resolve('allows its own module and listed modules, and says why anything else is refused', () => {
  const file = (path: string) => ({ kind: 'file' as const, path });
  const pkg = (name: string) => ({ kind: 'package' as const, name });
  const cases: [string, ImportTarget, string | null][] = [
    ['cli/a.ts', file('cli/commands/b.ts'), null],
    ['cli/a.ts', file('core/plan.ts'), null],
    ['cli/a.ts', file('core/pure/x.ts'), null],
    ['cli/a.ts', file('schemas/index.ts'), 'module cli/ may not import module schemas/'],
    ['core/plan.ts', file('cli/a.ts'), 'module core/ may not import module cli/'],
    ['core/pure/x.ts', file('core/plan.ts'), 'module core/pure/ may not import module core/'],
    ['main.ts', file('loop.ts'), 'module main.ts may not import loop.ts, which no rule classifies'],
    ['loop.ts', file('cli/a.ts'), null],
    ['core/plan.ts', pkg('luxon'), null],
    ['core/plan.ts', pkg('node:fs'), 'module core/ may use only the packages luxon'],
    ['cli/a.ts', pkg('node:fs'), null],
    ['cli/a.ts', { kind: 'unknown', specifier: '*' }, 'module cli/ imports a path the test cannot read; write it as a literal or a template with a fixed folder'],
  ];
  for (const [from, target, why] of cases) assert.is(forbidden(from, target, SMALL), why, `${from} -> ${JSON.stringify(target)}`);
});

Resolve.run();

const Cycles = suite('cycles');

function rules(rows: string[]): LayerRule[] {
  return parseLayers(rows.join('\n'));
}

Cycles('finds none when every arrow goes one way', () => {
  assert.equal(cycles(rules(['a/ -> b/, c.ts', 'b/ -> c.ts', 'c.ts -> nothing', 'd/ -> a/, b/'])), []);
});

Cycles('catches an upward arrow whichever row it is written on', () => {
  const cases: [string, string[], string[]][] = [
    ['the bottom reaches the top', ['core/ -> cli/', 'apply/ -> core/', 'cli/ -> apply/'], ['apply/ -> core/ -> cli/ -> apply/']],
    ['the middle reaches up', ['core/ -> nothing', 'apply/ -> core/, cli/', 'cli/ -> apply/'], ['apply/ -> cli/ -> apply/']],
    ['two modules name each other', ['core/ -> apply/', 'apply/ -> core/', 'cli/ -> apply/'], ['apply/ -> core/ -> apply/']],
  ];
  for (const [name, rows, expected] of cases) assert.equal(cycles(rules(rows)), expected, name);
});

Cycles('sees arrows through a folder that holds modules, or into a file inside one', () => {
  assert.equal(cycles(rules(['x/a/ -> nothing', 'x/b/ -> y/', 'y/ -> x/'])), ['x/b/ -> y/ -> x/b/']);
  assert.equal(cycles(rules(['a/ -> b/f.ts', 'b/ -> a/'])), ['a/ -> b/ -> a/']);
});

Cycles.run();
