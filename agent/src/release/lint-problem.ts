// One problem `duck release lint` reports, always with a place a person can jump to: the
// `file:line:col: field: message` line CI logs and editors read. The agent's checks throw
// DuckErrors that name a file and a JSON-pointer field; this turns them into positioned problems.
import { readYamlSource } from '../../../schemas/yaml-source.js';
import { pointerSegments } from '../../../schemas/problems.js';
import type { DuckErrorCode } from '../../../schemas/errors.js';
import { toDuckError } from '../../../schemas/errors.js';

export interface LintProblem {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** A JSON pointer into the file ('' for the file as a whole). */
  readonly field: string;
  readonly code: DuckErrorCode;
  readonly message: string;
}

export function formatProblem(p: LintProblem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.field ? `${p.field}: ` : ''}${p.message}`;
}

/** Reads a channel file's text (null when absent); lint passes one bound to the working tree. */
export type TextOf = (file: string) => Promise<string | null>;

/** Where `field` (or a key below it) sits in a YAML file; 1:1 when it cannot be found. */
export async function positionOf(textOf: TextOf, file: string, field: string, key?: string): Promise<{ line: number; column: number } | null> {
  const text = await textOf(file).catch(() => null);
  if (text === null) return null;
  const source = readYamlSource(text);
  if (!source.ok) return null;
  const path = pointerSegments(field);
  const at = key !== undefined ? source.locator.key(path, key) : source.locator.value(path);
  return at ?? null;
}

/**
 * The problems of one failed agent check. A schema error already carries every problem with its
 * position; other errors name a file and a field, looked up in the first of `files` (the file
 * itself, then the release.yaml that lists it) where the field exists.
 */
export async function problemsOf(err: unknown, files: readonly string[], textOf: TextOf): Promise<LintProblem[]> {
  const e = toDuckError(err);
  const data = e.data;
  const file = typeof data.file === 'string' ? data.file : (files[0] ?? '');
  const problems = Array.isArray(data.problems) ? (data.problems as Array<{ line?: number; column?: number; field: string; message: string }>) : [];
  if (problems.length > 0 && typeof data.line === 'number') {
    return problems.map((p) => ({ file, line: p.line ?? 1, column: p.column ?? 1, field: p.field, code: e.code, message: p.message }));
  }
  const field = typeof data.field === 'string' ? data.field : '';
  const key = field === '/files' && typeof data.path === 'string' ? data.path : undefined;
  for (const candidate of [file, ...files]) {
    if (!field || !/\.ya?ml$/.test(candidate)) continue;
    const at = await positionOf(textOf, candidate, field, key);
    if (at) return [{ file: candidate, ...at, field, code: e.code, message: trimPrefix(e.message, candidate, field) }];
  }
  const line = typeof data.line === 'number' ? data.line : 1;
  const column = typeof data.column === 'number' ? data.column : 1;
  return [{ file, line, column, field, code: e.code, message: trimPrefix(e.message, file, field) }];
}

/** Drops a leading "file: field: " the message repeats, since the problem line starts with both. */
function trimPrefix(message: string, file: string, field: string): string {
  let m = message;
  if (m.startsWith(`${file}: `)) m = m.slice(file.length + 2);
  if (field && m.startsWith(`${field}: `)) m = m.slice(field.length + 2);
  return m;
}

export function byPosition(a: LintProblem, b: LintProblem): number {
  return a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.column - b.column;
}
