// The layer rules ARCHITECTURE.md writes in its `## Layers` section, and the pure checks the
// architecture test makes with them: which module a path belongs to, where an import points, which
// arrows a module may draw, and whether the rules themselves go one way.
import { isBuiltin } from 'node:module';
import { posix } from 'node:path';

/** One module: a folder (ending in `/`) or a single file, with what it may import. */
export interface LayerRule {
  module: string;
  /** The folders and files it may import besides its own; empty for `nothing`. */
  imports: string[];
  /** The only packages it may import, or null for any. */
  packages: string[] | null;
  /** The line of its `->` rule in the parsed text, for messages. */
  line: number;
}

const LAYERS_HEADING = '## Layers';

/** The one fenced block of the `## Layers` section, and the line (1-based) its first row is on. */
export function layersBlock(markdown: string): { text: string; firstLine: number } {
  const lines = markdown.split('\n');
  const heading = lines.findIndex((l) => l.trim() === LAYERS_HEADING);
  if (heading < 0) throw new Error(`no "${LAYERS_HEADING}" section`);
  const open = lines.findIndex((l, i) => i > heading && (l.startsWith('```') || l.startsWith('## ')));
  if (open < 0 || !lines[open]!.startsWith('```')) throw new Error(`the "${LAYERS_HEADING}" section has no fenced block`);
  const close = lines.findIndex((l, i) => i > open && l.startsWith('```'));
  if (close < 0) throw new Error(`the "${LAYERS_HEADING}" block is not closed`);
  return { text: lines.slice(open + 1, close).join('\n'), firstLine: open + 2 };
}

function list(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/**
 * Parses rows of `module -> a/, b.ts` (or `-> nothing`) and `module uses pkg, pkg`; `#` starts a
 * comment; an indented row continues the list of the row above.
 */
export function parseLayers(text: string, firstLine = 1): LayerRule[] {
  const rules = new Map<string, LayerRule>();
  const uses = new Map<string, string[]>();
  const nothing = new Set<string>();
  let last: string[] | null = null;
  text.split('\n').forEach((raw, index) => {
    const line = firstLine + index;
    const row = raw.replace(/#.*/, '');
    if (row.trim() === '') return;
    if (/^\s/.test(row)) {
      if (last === null) throw new Error(`line ${line}: an indented row with no rule above`);
      last.push(...list(row));
      return;
    }
    const match = /^(\S+)\s+(->|uses)\s*(.*)$/.exec(row.trim());
    if (match === null) throw new Error(`line ${line}: expected "module -> modules" or "module uses packages", got "${raw.trim()}"`);
    const module = match[1]!;
    const rest = match[3]!.trim();
    if (match[2] === 'uses') {
      if (uses.has(module)) throw new Error(`line ${line}: a second "uses" row for ${module}`);
      last = list(rest);
      uses.set(module, last);
      return;
    }
    if (rules.has(module)) throw new Error(`line ${line}: a second "->" row for ${module}`);
    if (rest === 'nothing') nothing.add(module);
    last = rest === 'nothing' ? [] : list(rest);
    rules.set(module, { module, imports: last, packages: null, line });
  });
  for (const rule of rules.values()) {
    // An empty list is more likely a row cut short than a module meant to import nothing.
    if (rule.imports.length === 0 && !nothing.has(rule.module)) throw new Error(`line ${rule.line}: write "${rule.module} -> nothing" for a module that imports no other`);
  }
  for (const [module, packages] of uses) {
    const rule = rules.get(module);
    if (rule === undefined) throw new Error(`"${module} uses …" but no "${module} -> …" row`);
    rule.packages = packages;
  }
  return [...rules.values()];
}

/** Does the folder or file `scope` (a rule's module or one of its imports) hold `path`? */
function holds(scope: string, path: string): boolean {
  return scope.endsWith('/') ? path.startsWith(scope) : path === scope;
}

/** The module a repository path belongs to: the longest rule that holds it. */
export function moduleOf(path: string, rules: readonly LayerRule[]): LayerRule | undefined {
  let best: LayerRule | undefined;
  for (const rule of rules) {
    if (holds(rule.module, path) && (best === undefined || rule.module.length > best.module.length)) best = rule;
  }
  return best;
}

export type ImportTarget =
  | { kind: 'file'; path: string }
  | { kind: 'package'; name: string }
  | { kind: 'unknown'; specifier: string };

/**
 * Where a specifier in the repository file `from` points. Relative paths resolve against its folder,
 * with TypeScript's NodeNext convention that `./x.js` names `./x.ts`; a `*` (a dynamic import's
 * unknown tail) stays; a specifier that is only `*` (a computed dynamic import) is unknown. Anything
 * else is a package, named without its subpath; Node's built-ins as `node:name`.
 */
export function resolveImport(from: string, specifier: string): ImportTarget {
  if (specifier === '*') return { kind: 'unknown', specifier };
  if (specifier.startsWith('.') || specifier.startsWith('/')) {
    const path = posix.normalize(posix.join(posix.dirname(from), specifier));
    return { kind: 'file', path: path.replace(/\.([mc]?)js(x?)$/, '.$1ts$2') };
  }
  const bare = specifier.startsWith('node:') ? specifier : isBuiltin(specifier) ? `node:${specifier}` : specifier;
  const parts = bare.split('/');
  return { kind: 'package', name: bare.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]! };
}

/** Why `from` may not import `target`, or null when the rules allow it. */
export function forbidden(from: string, target: ImportTarget, rules: readonly LayerRule[]): string | null {
  const source = moduleOf(from, rules);
  if (source === undefined) return null; // an unclassified file is reported once, by its own test
  if (target.kind === 'unknown') return `module ${source.module} imports a path the test cannot read; write it as a literal or a template with a fixed folder`;
  if (target.kind === 'package') {
    if (source.packages === null || source.packages.includes(target.name)) return null;
    return `module ${source.module} may use only the packages ${source.packages.join(', ')}`;
  }
  const dest = moduleOf(target.path, rules);
  if (dest === source || source.imports.some((scope) => holds(scope, target.path))) return null;
  if (dest === undefined) return `module ${source.module} may not import ${target.path}, which no rule classifies`;
  return `module ${source.module} may not import module ${dest.module}`;
}

/** The other modules `rule` may import: those its imports hold, and those that hold one of its imports. */
function allowedModules(rule: LayerRule, rules: readonly LayerRule[]): LayerRule[] {
  return rules.filter((other) => other !== rule &&
    rule.imports.some((scope) => holds(scope, other.module) || holds(other.module, scope)));
}

/** Cycles of the allowed graph, as `a -> b -> a`: at least one through any modules that reach each other. */
export function cycles(rules: readonly LayerRule[]): string[] {
  const found = new Set<string>();
  const state = new Map<LayerRule, 'open' | 'done'>();
  const path: LayerRule[] = [];
  const visit = (rule: LayerRule): void => {
    state.set(rule, 'open');
    path.push(rule);
    for (const next of allowedModules(rule, rules)) {
      if (state.get(next) === 'open') {
        const loop = path.slice(path.indexOf(next)).map((r) => r.module);
        // Start each cycle at its smallest module, so one cycle met from two sides is listed once.
        const start = loop.indexOf([...loop].sort()[0]!);
        const rotated = [...loop.slice(start), ...loop.slice(0, start)];
        found.add([...rotated, rotated[0]].join(' -> '));
      } else if (!state.has(next)) {
        visit(next);
      }
    }
    path.pop();
    state.set(rule, 'done');
  };
  for (const rule of rules) if (!state.has(rule)) visit(rule);
  return [...found];
}
