/**
 * Errors are values with a closed code, never strings to parse. The refusal codes are the typed
 * reasons of DESIGN §3: every refusal of a channel commit carries exactly one of them. Agent and
 * controller both import this module; it imports nothing of either.
 */
export const REFUSAL_CODES = [
  'unsigned',
  'untrusted-signer',
  'bad-signature',
  'history-rewritten',
  'trust-rollback',
  'invalid',
  'unsafe-path',
  'too-large',
  'digest-mismatch',
  'clock-regressed',
  'out-of-scope',
  'threshold-unmet',
] as const;
export type RefusalCode = (typeof REFUSAL_CODES)[number];

/**
 * A stale channel (older than channel.yaml's freshness) is a warning, never a refusal: the commit
 * is accepted and acted on, and `stale` is reported beside it so a withheld release is noticed.
 */
export const WARNING_CODES = ['stale'] as const;
export type WarningCode = (typeof WARNING_CODES)[number];

export const OTHER_CODES = ['config', 'usage', 'fetch', 'io', 'not-found', 'internal', 'unhealthy', 'no-space', 'locked', 'docker'] as const;
export type DuckErrorCode = RefusalCode | (typeof OTHER_CODES)[number];

/** How a caller should react: retry later (transient), or stop until something changes. */
export type RetryClass = 'transient' | 'stalled';

export interface DuckErrorData {
  file?: string;
  line?: number;
  column?: number;
  field?: string;
  commit?: string;
  fingerprint?: string;
  [key: string]: unknown;
}

export class DuckError extends Error {
  override readonly name = 'DuckError';
  constructor(
    readonly code: DuckErrorCode,
    message: string,
    readonly data: DuckErrorData = {},
    readonly retry: RetryClass = code === 'fetch' || code === 'io' ? 'transient' : 'stalled',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get isRefusal(): boolean {
    return (REFUSAL_CODES as readonly string[]).includes(this.code);
  }

  toJSON(): { code: DuckErrorCode; message: string; data: DuckErrorData; retry: RetryClass } {
    return { code: this.code, message: this.message, data: this.data, retry: this.retry };
  }
}

export function toDuckError(err: unknown): DuckError {
  if (err instanceof DuckError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new DuckError('internal', message, {}, 'transient', { cause: err });
}

/**
 * The node's own files (agent.yaml, the overlay) are checked with the schemas the channel's files
 * are, but a bad one is the operator's to fix — `config`, exit 1 — never a refused channel
 * (`invalid`, exit 3). The message and its file, line and field stay as they were.
 */
export function asConfigError<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof DuckError && err.code === 'invalid') throw new DuckError('config', err.message, err.data, err.retry, { cause: err });
    throw err;
  }
}

/** "file:line:col: /field: message" — the one-line form operators and CI logs read. */
export function formatLocation(data: DuckErrorData): string {
  let where = data.file ?? '';
  if (where && data.line !== undefined) where += `:${data.line}`;
  if (where && data.line !== undefined && data.column !== undefined) where += `:${data.column}`;
  const field = data.field !== undefined && data.field !== '' ? data.field : undefined;
  return [where, field].filter(Boolean).join(': ');
}
