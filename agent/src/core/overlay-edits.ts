// The operator's edits of the node overlay (DESIGN §4.1, §4.6) as pure functions on a yaml
// Document, and the rendering that keeps the operator's own formatting around them. No I/O: the
// overlay-file adapter reads, validates and writes.
import type { Document, ParseOptions, DocumentOptions, SchemaOptions } from 'yaml';
import { isMap, isScalar, parseDocument, Scalar } from 'yaml';
import type { Hold } from '../../../schemas/index.js';
import { commonSchema, PATTERN_WORDS } from '../../../schemas/index.js';

/** The same YAML dialect as schemas/yaml-source.ts, so an edit reads the file the validator reads. */
export const OVERLAY_YAML_OPTIONS: ParseOptions & DocumentOptions & SchemaOptions = {
  schema: 'core',
  strict: true,
  uniqueKeys: true,
  merge: false,
  prettyErrors: false,
  logLevel: 'error',
};

export function parseOverlayDocument(text: string): Document.Parsed {
  return parseDocument(text, OVERLAY_YAML_OPTIONS);
}

// ---- edits: each returns what it replaced or removed, so a command can say "was …" ----

/** One edit of the overlay's document, as `editOverlay` applies it (it may run more than once). */
export type OverlayEdit = (doc: Document) => void;

/** Pins `app` to `version`; an existing pin keeps its node (comment, quoting) and gets the new value. */
export function setPin(doc: Document, app: string, version: string): string | undefined {
  const previous = scalarAt(doc, ['pin', app]);
  doc.setIn(['pin', app], version);
  return previous;
}

/** Removes the pin of `app`, and the `pin` map when it becomes empty. */
export function removePin(doc: Document, app: string): string | undefined {
  return removeEntry(doc, 'pin', app, (node) => scalarText(node));
}

/** Holds the node; a hold already there keeps its place and style and gets the new reason and end. */
export function setHold(doc: Document, reason: string, until?: string): Hold | undefined {
  const previous = holdOf(doc.get('hold', true));
  const node = doc.get('hold', true);
  if (isMap(node)) {
    node.set('reason', reason);
    // A new hold replaces the old one whole: an old end date must not outlive it.
    if (until === undefined) node.delete('until');
    else node.set('until', until);
  } else {
    doc.set('hold', doc.createNode(until === undefined ? { reason } : { reason, until }));
  }
  return previous;
}

export function removeHold(doc: Document): Hold | undefined {
  const previous = holdOf(doc.get('hold', true));
  deleteTopKey(doc, 'hold');
  return previous;
}

/** Schedules a one-shot upgrade of `app` at `at` (RFC 3339); returns the time it replaced. */
export function setSchedule(doc: Document, app: string, at: string): string | undefined {
  const previous = scalarAt(doc, ['schedule', app, 'at']);
  doc.setIn(['schedule', app, 'at'], at);
  return previous;
}

/** Cancels the scheduled upgrade of `app`, and the `schedule` map when it becomes empty. */
export function removeSchedule(doc: Document, app: string): string | undefined {
  return removeEntry(doc, 'schedule', app, (node) => (isMap(node) ? scalarText(node.get('at', true)) : undefined));
}

/**
 * Sets `approval` or `windows` (the console's settings page); null removes the key, so the default
 * (auto) or the group's windows apply again. An existing key keeps its comments; a scalar keeps its
 * node. Returns whether the key was there before.
 */
export function setOverlayKey(doc: Document, key: 'approval' | 'windows', value: unknown): boolean {
  const had = isMap(doc.contents) && doc.contents.has(key);
  if (value === null) deleteTopKey(doc, key);
  else if (isScalar(doc.get(key, true)) && (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')) doc.set(key, value);
  else doc.set(key, doc.createNode(value));
  return had;
}

/** Sets the local compose overrides of `app` (null removes them, and `compose` when it becomes empty). */
export function setCompose(doc: Document, app: string, override: Record<string, unknown> | null): boolean {
  if (override === null) return removeEntry(doc, 'compose', app, () => 'removed') !== undefined;
  const had = doc.hasIn(['compose', app]);
  doc.setIn(['compose', app], doc.createNode(override));
  return had;
}

function scalarText(node: unknown): string | undefined {
  if (!isScalar(node) || node.value === null || node.value === undefined) return undefined;
  return String(node.value);
}

function scalarAt(doc: Document, path: string[]): string | undefined {
  return scalarText(doc.getIn(path, true));
}

function holdOf(node: unknown): Hold | undefined {
  if (!isMap(node)) return undefined;
  const reason = scalarText(node.get('reason', true)) ?? '';
  const until = scalarText(node.get('until', true));
  return until === undefined ? { reason } : { reason, until };
}

function removeEntry(doc: Document, top: string, key: string, describe: (node: unknown) => string | undefined): string | undefined {
  const map = doc.get(top, true);
  if (!isMap(map) || !map.has(key)) return undefined;
  const previous = describe(map.get(key, true));
  map.delete(key);
  // An empty `pin: {}` left behind reads as a pin section that pins nothing: drop the key.
  if (map.items.length === 0) deleteTopKey(doc, top);
  return previous;
}

function deleteTopKey(doc: Document, key: string): void {
  const map = doc.contents;
  if (!isMap(map)) return;
  const index = map.items.findIndex((pair) => (isScalar(pair.key) ? pair.key.value : pair.key) === key);
  const removed = map.items[index];
  if (!removed) return;
  map.items.splice(index, 1);
  // yaml hangs the comment above the first key on that key, but there it is most often the file's
  // own header ("# overlay of node 7, see ticket …"): keep it for the key that is now first.
  const header = index === 0 && isScalar(removed.key) ? removed.key.commentBefore : undefined;
  if (!header) return;
  const next = map.items[0];
  if (!next) {
    doc.commentBefore = [doc.commentBefore, header].filter(Boolean).join('\n');
    return;
  }
  const nextKey = isScalar(next.key) ? next.key : new Scalar(next.key);
  nextKey.commentBefore = [header, nextKey.commentBefore].filter(Boolean).join('\n');
  next.key = nextKey;
}

// ---- rendering: the edit's lines in yaml's style, every other line as the operator wrote it ----

/**
 * Parses `text`, applies `edit` and renders the result. yaml's own output normalises spacing,
 * comment alignment, flow-collection padding and blank lines; an operator whose `duck pin` reflows
 * the whole file stops trusting it. So the result is a three-way merge: yaml's rendering before the
 * edit is the base, the operator's text is one side and yaml's rendering after the edit the other.
 * Lines the edit did not change keep the operator's bytes. The merge is kept only when it parses to
 * exactly the edited value; otherwise (an unusual indentation, say) yaml's full rendering is used.
 * @throws Error when `text` is not well-formed YAML (callers validate it first, with locations).
 */
export function editYamlText(text: string, edit: (doc: Document) => void): { text: string; doc: Document.Parsed } {
  const doc = parseOverlayDocument(text);
  if (doc.errors.length > 0) throw doc.errors[0];
  // The operator's indentation is guessed from the first nested key; a file that mixes widths
  // merges best with another one: each is tried, and the result closest to the operator's kept.
  const indents = [...new Set([detectIndent(text), 2, 4])];
  const before = indents.map((indent) => render(doc, indent));
  edit(doc);
  const after = indents.map((indent) => render(doc, indent));
  if (after[0] === before[0]) return { text, doc };
  let best = { text: after[0] as string, distance: Number.POSITIVE_INFINITY };
  for (const [k, rendered] of after.entries()) {
    const merged = mergeLines(text, before[k] as string, rendered);
    if (merged === null || !sameValue(merged, doc)) continue;
    const distance = linesChanged(text, merged);
    if (distance < best.distance) best = { text: merged, distance };
  }
  return { text: best.text, doc };
}

function linesChanged(before: string, after: string): number {
  const a = new Set(before.split('\n'));
  const b = new Set(after.split('\n'));
  return [...b].filter((line) => !a.has(line)).length + [...a].filter((line) => !b.has(line)).length;
}

function render(doc: Document, indent: number): string {
  // lineWidth 0: yaml would otherwise fold a long hold reason over several lines.
  const text = doc.toString({ lineWidth: 0, indent });
  const contents = doc.contents;
  const empty = contents === null || (isMap(contents) && contents.items.length === 0 && !contents.comment && !contents.commentBefore);
  // yaml writes an empty document as `null` or `{}`; a file of only comments is the empty overlay.
  return empty ? text.replace(/(^|\n)\n?(null|\{\})\n$/, '$1') : text;
}

function sameValue(text: string, doc: Document): boolean {
  const reread = parseOverlayDocument(text);
  // JSON text compares key order too: a merge that moved a key is not the edit either.
  return reread.errors.length === 0 && JSON.stringify(reread.toJS() ?? null) === JSON.stringify(doc.toJS() ?? null);
}

/** The indentation of the operator's first nested key (2 when there is none). */
function detectIndent(text: string): number {
  const found = /^( {2,8})[A-Za-z0-9_"'][^\n#]*:(\s|$)/m.exec(text);
  return found?.[1]?.length ?? 2;
}

// Lines beyond this make the LCS table too large to be worth it; yaml's rendering is used instead.
const MAX_MERGE_CELLS = 4_000_000;

/** diff3 over lines: the operator's text and the edit, both as changes from `base`; null if too large. */
export function mergeLines(ours: string, base: string, theirs: string): string | null {
  const eol = ours.includes('\r\n') ? '\r\n' : '\n';
  const o = lines(ours);
  const b = lines(base);
  const t = lines(theirs);
  const mo = matchLines(b, o);
  const mt = matchLines(b, t);
  if (mo === null || mt === null) return null;
  const out: Line[] = [];
  let [i, oi, ti] = [0, 0, 0];
  for (;;) {
    // The next base line both sides kept: everything before it is one region to resolve.
    let j = i;
    while (j < b.length && ((mo[j] ?? -1) < 0 || (mt[j] ?? -1) < 0)) j++;
    const oEnd = j < b.length ? (mo[j] as number) : o.length;
    const tEnd = j < b.length ? (mt[j] as number) : t.length;
    out.push(...resolveRegion(b.slice(i, j), o.slice(oi, oEnd), t.slice(ti, tEnd)));
    if (j >= b.length) break;
    out.push(o[oEnd] as Line);
    [i, oi, ti] = [j + 1, oEnd + 1, tEnd + 1];
  }
  return out.map((line) => line.raw).join(eol);
}

interface Line {
  raw: string;
  /**
   * What the merge compares: the indentation and the text without spaces. yaml re-spaces comments
   * and flow collections; comparing raw lines would make every such line look edited, leaving only
   * blank lines to align on (and blank lines align anywhere).
   */
  key: string;
}

function lines(text: string): Line[] {
  return text.split(/\r?\n/).map((raw) => {
    const body = raw.trimStart();
    return { raw, key: `${raw.length - body.length}|${body.replace(/\s+/g, '')}` };
  });
}

function resolveRegion(base: Line[], ours: Line[], theirs: Line[]): Line[] {
  if (same(ours, base)) return theirs;
  if (same(theirs, base) || same(ours, theirs)) return ours;
  // Both changed the region: the edit usually only added or removed lines at one end of it, so the
  // operator's lines can be kept with the edit's lines beside them.
  if (startsWith(theirs, base)) return [...ours, ...theirs.slice(base.length)];
  if (endsWith(theirs, base)) return [...theirs.slice(0, theirs.length - base.length), ...ours];
  if (startsWith(base, theirs)) {
    const removed = base.slice(theirs.length);
    if (endsWith(ours, removed)) return ours.slice(0, ours.length - removed.length);
  }
  if (endsWith(base, theirs)) {
    const removed = base.slice(0, base.length - theirs.length);
    if (startsWith(ours, removed)) return ours.slice(removed.length);
  }
  return theirs;
}

function same(a: readonly Line[], b: readonly Line[]): boolean {
  return a.length === b.length && startsWith(a, b);
}

function startsWith(a: readonly Line[], prefix: readonly Line[]): boolean {
  return prefix.length <= a.length && prefix.every((line, k) => line.key === a[k]?.key);
}

function endsWith(a: readonly Line[], suffix: readonly Line[]): boolean {
  const offset = a.length - suffix.length;
  return offset >= 0 && suffix.every((line, k) => line.key === a[offset + k]?.key);
}

/** For each line of `a`, the line of `b` the heaviest common subsequence pairs it with, or -1. */
function matchLines(lineA: readonly Line[], lineB: readonly Line[]): Int32Array | null {
  const a = lineA.map((l) => l.key);
  const b = lineB.map((l) => l.key);
  const match = new Int32Array(a.length).fill(-1);
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) match[start] = start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) match[--endA] = --endB;
  const n = endA - start;
  const m = endB - start;
  if (n * m > MAX_MERGE_CELLS) return null;
  // lengths[x][y]: the weight of the best common subsequence of a[start+x..endA) and b[start+y..endB).
  const width = m + 1;
  const lengths = new Uint32Array((n + 1) * width);
  for (let x = n - 1; x >= 0; x--) {
    for (let y = m - 1; y >= 0; y--) {
      const line = a[start + x] as string;
      const skip = Math.max(lengths[(x + 1) * width + y] as number, lengths[x * width + y + 1] as number);
      lengths[x * width + y] = line === b[start + y] ? Math.max(skip, (lengths[(x + 1) * width + y + 1] as number) + weight(line)) : skip;
    }
  }
  let [x, y] = [0, 0];
  while (x < n && y < m) {
    const line = a[start + x] as string;
    if (line === b[start + y] && lengths[x * width + y] === (lengths[(x + 1) * width + y + 1] as number) + weight(line)) {
      match[start + x] = start + y;
      x++;
      y++;
    } else if ((lengths[(x + 1) * width + y] as number) >= (lengths[x * width + y + 1] as number)) {
      x++;
    } else {
      y++;
    }
  }
  return match;
}

/**
 * Blank lines match almost anywhere; a common subsequence that pairs two blank lines instead of
 * one line of content would anchor the merge in the wrong place.
 */
function weight(key: string): number {
  return key.endsWith('|') ? 1 : 1024;
}

// ---- operator input ----

/**
 * Why `value` cannot be an app name or a version (in the schema's words), or null when it can. A
 * command checks its arguments before using them in a path such as releases/<app>/<version>/.
 */
export function invalidName(kind: 'app' | 'version', value: string): string | null {
  const { pattern } = kind === 'app' ? commonSchema.$defs.appName : commonSchema.$defs.version;
  if (new RegExp(pattern).test(value)) return null;
  return `${kind} "${value}" ${PATTERN_WORDS[pattern] ?? `must match ${pattern}`}`;
}


const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$/;

/** A calendar date "YYYY-MM-DD" that exists (Date.parse would take 2026-02-30 as March 2). */
export function isCalendarDate(text: string): boolean {
  const m = DATE.exec(text);
  return m !== null && validDay(Number(m[1]), Number(m[2]), Number(m[3]));
}

/**
 * An RFC 3339 date-time with an explicit offset, as an instant; null for anything else, including
 * a time without an offset (whose meaning would depend on the node's zone) and a leap second.
 */
export function parseInstant(text: string): Date | null {
  const m = DATE_TIME.exec(text);
  if (!m || !validDay(Number(m[1]), Number(m[2]), Number(m[3]))) return null;
  if (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6]) > 59) return null;
  if (m[9] !== undefined && (Number(m[9]) > 23 || Number(m[10]) > 59)) return null;
  const ms = Date.parse(text.replace(' ', 'T'));
  return Number.isNaN(ms) ? null : new Date(ms);
}

function validDay(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}
