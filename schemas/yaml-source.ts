// YAML text -> a plain value plus a locator that maps JSON pointers back to lines and columns.
// YAML 1.2 core schema only: "02:00" and "2026-12-31" stay strings, yes/no are not booleans.
import type { Document, Node, Pair } from 'yaml';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, Scalar } from 'yaml';
import type { Position, SourceLocator } from './problems.js';
import { sortProblems } from './problems.js';
import type { SchemaProblem } from './types.js';

export type YamlSource = { ok: true; value: unknown; locator: SourceLocator } | { ok: false; problems: SchemaProblem[] };

type Parsed = Document.Parsed;

function keyText(pair: Pair): string | undefined {
  const key = pair.key;
  if (isScalar(key)) return String(key.value);
  if (key === null || key === undefined) return '';
  return undefined;
}

function resolved(doc: Parsed, node: unknown): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

function pointerOf(path: readonly string[]): string {
  return path.map((s) => `/${s.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** Calls `fn` for every map pair, with the path of the map that holds it. */
function eachPair(node: unknown, path: string[], fn: (pair: Pair, mapPath: readonly string[]) => void): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      fn(pair, path);
      const key = keyText(pair);
      if (key !== undefined) eachPair(pair.value, [...path, key], fn);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, index) => eachPair(item, [...path, String(index)], fn));
  }
}

function createLocator(doc: Parsed, lines: LineCounter): SourceLocator {
  const position = (offset: number): Position => {
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };
  const find = (path: readonly string[]): { node: unknown; pair?: Pair } | undefined => {
    let node: unknown = doc.contents;
    let pair: Pair | undefined;
    for (const segment of path) {
      node = resolved(doc, node);
      if (isMap(node)) {
        pair = node.items.find((p) => keyText(p) === segment);
        if (!pair) return undefined;
        node = pair.value;
      } else if (isSeq(node)) {
        pair = undefined;
        node = node.items[Number(segment)];
        if (node === undefined) return undefined;
      } else {
        return undefined;
      }
    }
    return { node, ...(pair ? { pair } : {}) };
  };
  return {
    value(path) {
      const found = find(path);
      if (!found) return undefined;
      const { node, pair } = found;
      // An empty value ("start:") has an empty range at the end of the line: point at its key.
      const empty = isScalar(node) && node.range?.[0] === node.range?.[1];
      const offset = empty || node === null || node === undefined ? start(pair?.key) : start(node);
      if (offset !== undefined) return position(offset);
      return path.length === 0 ? { line: 1, column: 1 } : undefined;
    },
    key(path, key) {
      const map = find(path);
      const node = map && resolved(doc, map.node);
      const pair = isMap(node) ? node.items.find((p) => keyText(p) === key) : undefined;
      const offset = start(pair?.key);
      return offset === undefined ? undefined : position(offset);
    },
    plainScalar(path) {
      const node = find(path)?.node;
      return isScalar(node) && node.type === Scalar.PLAIN && typeof node.source === 'string' ? node.source : undefined;
    },
  };
}

/** The pointer of the map holding the key that starts at `offset` ('' when not found). */
function mapPointerAt(doc: Parsed, offset: number): { field: string; key?: string } {
  let found: { field: string; key?: string } = { field: '' };
  eachPair(doc.contents, [], (pair, mapPath) => {
    const key = keyText(pair);
    if (start(pair.key) === offset && key !== undefined) found = { field: pointerOf(mapPath), key };
  });
  return found;
}

function start(node: unknown): number | undefined {
  return (node as Node | null)?.range?.[0];
}

function yamlProblems(doc: Parsed, lines: LineCounter): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  for (const error of [...doc.errors, ...doc.warnings]) {
    const { line, col } = lines.linePos(error.pos[0]);
    if (error.code === 'DUPLICATE_KEY') {
      const { field, key } = mapPointerAt(doc, error.pos[0]);
      problems.push({ line, column: col, field, message: key === undefined ? 'duplicate key' : `duplicate key "${key}"` });
    } else {
      problems.push({ line, column: col, field: '', message: `invalid YAML: ${error.message.replace(/\s+/g, ' ').trim()}` });
    }
  }
  // A map or list used as a key would be stringified into an object key: refuse it instead.
  eachPair(doc.contents, [], (pair, mapPath) => {
    if (keyText(pair) !== undefined) return;
    const offset = start(pair.key);
    const at = offset === undefined ? { line: 1, col: 1 } : lines.linePos(offset);
    problems.push({ line: at.line, column: at.col, field: pointerOf(mapPath), message: 'a key must be a plain value, not a map or list' });
  });
  return sortProblems(problems);
}

export function readYamlSource(text: string): YamlSource {
  const lines = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lines,
    prettyErrors: false,
    strict: true,
    uniqueKeys: true,
    schema: 'core',
    merge: false,
    // Not 'silent': that level also drops the multiple-documents error.
    logLevel: 'error',
  });
  const problems = yamlProblems(doc, lines);
  if (problems.length > 0) return { ok: false, problems };
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: 100 }), locator: createLocator(doc, lines) };
  } catch (err) {
    // toJS refuses alias expansion bombs ("Excessive alias count").
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, problems: [{ line: 1, column: 1, field: '', message: `invalid YAML: ${message}` }] };
  }
}
