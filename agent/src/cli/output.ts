import type { DuckError, DuckErrorCode } from '../../../schemas/errors.js';
import { REFUSAL_CODES } from '../../../schemas/errors.js';

/** Exit codes, documented in the README: scripts branch on these, so they never change meaning. */
export const EXIT = { ok: 0, error: 1, usage: 2, refused: 3 } as const;

export function exitCodeFor(code: DuckErrorCode): number {
  if ((REFUSAL_CODES as readonly string[]).includes(code)) return EXIT.refused;
  if (code === 'usage') return EXIT.usage;
  return EXIT.error;
}

export interface Output {
  readonly json: boolean;
  /** A human line on stdout; suppressed in --json mode. */
  line(text?: string): void;
  /**
   * The one JSON document of a --json run. Given a function, it is called only in --json mode:
   * for a document that costs something to build (the node's zone loads ICU's data).
   */
  result(value: unknown): void;
  warn(text: string): void;
}

export function createOutput(json: boolean): Output {
  return {
    json,
    line: (text = '') => {
      if (!json) process.stdout.write(`${text}\n`);
    },
    result: (value) => {
      if (json) process.stdout.write(`${JSON.stringify(typeof value === 'function' ? (value as () => unknown)() : value, null, 2)}\n`);
    },
    warn: (text) => process.stderr.write(`warning: ${text}\n`),
  };
}

/** An Output in --json mode that keeps its document instead of printing it (the console serves it). */
export function capturedOutput(): { readonly out: Output; value(): unknown } {
  let value: unknown = null;
  const out: Output = {
    json: true,
    line: () => {},
    result: (v) => {
      value = typeof v === 'function' ? (v as () => unknown)() : v;
    },
    warn: () => {},
  };
  return { out, value: () => value };
}

export function failureJson(err: DuckError): Record<string, unknown> {
  return { ok: false, reason: err.code, message: err.message, ...(Object.keys(err.data).length ? { data: err.data } : {}) };
}

export function shortOid(oid: string): string {
  return oid.slice(0, 12);
}
