// Turns ajv errors into problems people can act on: a position in the source, the JSON pointer of
// the field, and a message in words. Raw regexes and ajv's phrasing never reach an operator.
import type { ErrorObject } from 'ajv/dist/2020.js';
import type { SchemaProblem } from './types.js';

export interface Position {
  line: number;
  column: number;
}

/** Where a JSON pointer's value, or one of its keys, sits in the source text. */
export interface SourceLocator {
  value(path: readonly string[]): Position | undefined;
  key(path: readonly string[], key: string): Position | undefined;
  /** The text of an unquoted scalar (for the "quote it" hint), undefined for anything else. */
  plainScalar(path: readonly string[]): string | undefined;
}

export const NO_SOURCE: SourceLocator = { value: () => undefined, key: () => undefined, plainScalar: () => undefined };

/** Every pattern the schemas use, in words. A unit test checks that none is missing. */
export const PATTERN_WORDS: Readonly<Record<string, string>> = {
  '^([01][0-9]|2[0-3]):[0-5][0-9]$': 'must match "HH:MM"',
  '^([0-9]+h([0-9]+m)?|[0-9]+m)$': 'must be a duration like 3h, 90m or 1h30m',
  '^([0-9]+(ms|s|m|h|d|w))+$': 'must be a duration like 30s, 90m, 7d or 1h30m',
  '^[a-f0-9]{64}$': 'must be sha256 hex (64 lowercase hex digits)',
  '^[a-z0-9][a-z0-9_-]{0,62}$': 'must be a lowercase name (a-z, 0-9, - and _, at most 63 characters)',
  '^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$': 'must be a version like 1.3.0 (letters, digits, . + _ -)',
  '^(?!/)(?!.*//)(?!(?:.*/)?\\.\\.?(?:/|$))[^\\u0000-\\u001f\\\\]+(?<!/)$':
    'must be a relative path inside its directory (no leading "/", no ".." or "." segment, no "//", no backslash)',
  '^(?!/)(?!.*//)(?!(?:.*/)?\\.\\.?(?:/|$))[^\\u0000-\\u001f\\\\]+$':
    'must be a relative path, or a directory prefix ending in "/" (no leading "/", no ".." or "." segment, no "//", no backslash)',
  '^(mon|tue|wed|thu|fri|sat|sun)(-(mon|tue|wed|thu|fri|sat|sun))?$': 'must be a day (mon, tue, wed, thu, fri, sat, sun) or a range of days like mon-fri',
  '^https?://[^\\s/?#]+[^\\s]*$': 'must be an http(s) URL',
  '^(?:>=|<=|>|<|=)?[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}(?: +(?:>=|<=|>|<|=)?[0-9A-Za-z][0-9A-Za-z.+_-]{0,63})*$':
    'must be a version range like ">=1.2.0 <2.0.0" (comparators >=, >, <=, <, = separated by spaces)',
  '^\\S+$': 'must be an image reference without spaces',
  '^sha256:[a-f0-9]{64}$': 'must be an image id (sha256:<64 hex digits>)',
  '@sha256:[a-f0-9]{64}$': 'must be pinned by digest (name@sha256:<64 hex digits>) when the image has no id',
  '^(?:https?://\\S+|(?!/)(?!.*//)(?!(?:.*/)?\\.\\.?(?:/|$))[^\\u0000-\\u001f\\\\]+(?<!/))$':
    'must be an http(s) URL or a relative path inside the release directory',
  '^(?:\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+):[0-9]{1,5}$': 'must be host:port',
  '^[A-Za-z0-9][A-Za-z0-9_.-]*$': 'must be a compose name (letters, digits, _ . -)',
  '^[A-Za-z_][A-Za-z0-9_]*$': 'must be an environment variable name (letters, digits and _)',
  '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$': 'must be an id of letters, digits, . _ : - (at most 128 characters)',
  '^https?://\\S+$': 'must be an http:// or https:// URL (git smart HTTP)',
  '^[^\\s~^:?*\\[\\\\]+$': 'must be a git branch name',
  '^(ssh-|ecdsa-sha2-|sk-)\\S+ [A-Za-z0-9+/]+={0,2}( .*)?$': 'must be an OpenSSH public key line like "ssh-ed25519 AAAA… alice@laptop"',
  '^[0-9a-f]{40,64}$': 'must be a git commit id (40 or 64 lowercase hex digits)',
};

const FORMAT_NOUNS: Readonly<Record<string, string>> = {
  date: 'a date like 2026-12-31',
  'date-time': 'a date-time like 2026-11-24T02:00:00Z',
};

const TYPE_NOUNS: Readonly<Record<string, string>> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  object: 'a map',
  array: 'a list',
  null: 'empty',
};

export function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function quoteList(values: readonly unknown[], last = 'or'): string {
  const quoted = values.map((v) => JSON.stringify(v));
  return quoted.length < 2 ? (quoted[0] ?? '') : `${quoted.slice(0, -1).join(', ')} ${last} ${quoted.at(-1)}`;
}

function nounOf(value: unknown): string {
  if (value === null || value === undefined) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'number') return 'a number';
  return TYPE_NOUNS[typeof value] ?? typeof value;
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min((row[j] ?? 0) + 1, (next[j - 1] ?? 0) + 1, (row[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length] ?? 0;
}

function suggestion(key: string, parentSchema: unknown): string {
  const properties = (parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {};
  const near = Object.keys(properties)
    .map((name) => ({ name, d: editDistance(key.toLowerCase(), name.toLowerCase()) }))
    .filter((c) => c.d <= Math.max(1, Math.floor(c.name.length / 3)))
    .sort((a, b) => a.d - b.d)[0];
  return near ? ` (did you mean "${near.name}"?)` : '';
}

/** Branch subschemas of the form {required: [k]}: the keys a oneOf asks for exactly one of. */
function oneOfKeys(branches: unknown): string[] | undefined {
  if (!Array.isArray(branches)) return undefined;
  const keys = branches.map((b) => {
    const required = (b as { required?: unknown }).required;
    return Object.keys(b as object).length === 1 && Array.isArray(required) && required.length === 1 ? String(required[0]) : undefined;
  });
  return keys.every((k) => k !== undefined) ? (keys as string[]) : undefined;
}

function branchNoun(branch: unknown): string | undefined {
  const { format, pattern } = branch as { format?: string; pattern?: string };
  if (format !== undefined) return FORMAT_NOUNS[format];
  if (pattern !== undefined) return PATTERN_WORDS[pattern]?.replace(/^must be /, '');
  return undefined;
}

/** The words for one ajv error (with `verbose`, so schema, parentSchema and data are present). */
export function describeError(error: ErrorObject, sourceText?: string): string {
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `missing required key "${String(p.missingProperty)}"`;
    case 'additionalProperties':
    case 'unevaluatedProperties': {
      const key = String(p.additionalProperty ?? p.unevaluatedProperty);
      return `unknown key "${key}"${suggestion(key, error.parentSchema)}`;
    }
    case 'dependentRequired':
      return `key "${String(p.property)}" needs key "${String(p.missingProperty)}"`;
    case 'type': {
      const expected = String(p.type)
        .split(',')
        .map((t) => TYPE_NOUNS[t] ?? t);
      const fraction = typeof error.data === 'number' && !Number.isInteger(error.data);
      const got = fraction && expected.includes('an integer') ? String(error.data) : nounOf(error.data);
      const hint = expected[0] === 'a string' && sourceText !== undefined && got !== 'empty' ? ` (quote it: "${sourceText}")` : '';
      return `must be ${expected.join(' or ')}, not ${got}${hint}`;
    }
    case 'pattern':
      return PATTERN_WORDS[String(p.pattern)] ?? `must match the pattern ${String(p.pattern)}`;
    case 'format':
      return `must be ${FORMAT_NOUNS[String(p.format)] ?? `a valid ${String(p.format)}`}`;
    case 'enum':
      return `must be ${quoteList(p.allowedValues as unknown[])}`;
    case 'const':
      return `must be ${JSON.stringify(p.allowedValue)}`;
    case 'not': {
      const forbidden = (error.schema as { const?: unknown } | undefined)?.const;
      return forbidden === undefined ? 'is not allowed here' : `must not be ${JSON.stringify(forbidden)}`;
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `must be ${String(p.comparison)} ${String(p.limit)}`;
    case 'minItems':
    case 'minLength':
    case 'minProperties':
      return p.limit === 1 ? 'must not be empty' : `must have at least ${String(p.limit)} ${error.keyword === 'minLength' ? 'characters' : 'entries'}`;
    case 'maxItems':
    case 'maxLength':
    case 'maxProperties':
      return `must have at most ${String(p.limit)} ${error.keyword === 'maxLength' ? 'characters' : 'entries'}`;
    case 'oneOf': {
      const keys = oneOfKeys(error.schema);
      if (!keys) return 'must match exactly one of the allowed forms';
      const passing = p.passingSchemas as number[] | null;
      if (!passing) return `needs one of the keys ${quoteList(keys)}`;
      return `must have only one of the keys ${quoteList(passing.map((i) => keys[i]), 'and')}`;
    }
    case 'anyOf': {
      const nouns = Array.isArray(error.schema) ? error.schema.map(branchNoun) : [];
      return nouns.length > 0 && nouns.every((n) => n !== undefined) ? `must be ${nouns.join(' or ')}` : 'must match one of the allowed forms';
    }
    default:
      return error.message ?? `fails ${error.keyword}`;
  }
}

/**
 * Maps ajv errors to problems: drops the wrappers (if, propertyNames) and the branch errors of a
 * oneOf/anyOf (the combinator's own error says it better), points key problems at the key and
 * value problems at the value, then sorts by position so the first problem is the first in the file.
 */
export function toProblems(errors: readonly ErrorObject[], locate: SourceLocator): SchemaProblem[] {
  const hidden = new Set<ErrorObject>(errors.filter((e) => e.keyword === 'if' || e.keyword === 'propertyNames'));
  for (const combinator of errors) {
    if (combinator.keyword !== 'oneOf' && combinator.keyword !== 'anyOf') continue;
    for (const e of errors) {
      const inside = e.instancePath === combinator.instancePath || e.instancePath.startsWith(`${combinator.instancePath}/`);
      if (e !== combinator && inside && e.schemaPath.startsWith(`${combinator.schemaPath}/`)) hidden.add(e);
    }
  }
  const problems: SchemaProblem[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    if (hidden.has(error)) continue;
    const path = pointerSegments(error.instancePath);
    const p = error.params as Record<string, unknown>;
    let at: Position | undefined;
    let message = describeError(error, error.keyword === 'type' ? locate.plainScalar(path) : undefined);
    if (error.propertyName !== undefined) {
      at = locate.key(path, error.propertyName);
      message = error.keyword === 'not' ? `key "${error.propertyName}" is not allowed here` : `invalid key "${error.propertyName}": ${message}`;
    } else if (error.keyword === 'additionalProperties') {
      at = locate.key(path, String(p.additionalProperty));
    } else {
      at = locate.value(path);
    }
    const problem: SchemaProblem = at ? { line: at.line, column: at.column, field: error.instancePath, message } : { field: error.instancePath, message };
    const id = `${problem.line}:${problem.column}:${problem.field}:${message}`;
    if (!seen.has(id)) problems.push(problem);
    seen.add(id);
  }
  return sortProblems(problems);
}

export function sortProblems(problems: SchemaProblem[]): SchemaProblem[] {
  // Array.prototype.sort is stable: problems without a position keep ajv's order, after the rest.
  const last = Number.MAX_SAFE_INTEGER;
  return [...problems].sort((a, b) => (a.line ?? last) - (b.line ?? last) || (a.column ?? 0) - (b.column ?? 0));
}
