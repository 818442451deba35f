// The one error shape of the HTTP API: a status, a closed code, and the field when one is to blame.
// Bodies are `{ error, message, field? }` (see middleware/errors.ts).
export type ApiErrorCode =
  | 'unauthenticated'
  | 'forbidden'
  | 'not-found'
  | 'too-large'
  | 'malformed-json'
  | 'invalid'
  | 'unsupported-media-type'
  | 'unavailable'
  | 'internal';

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** schemas/index.ts throws DuckError('invalid', …, {field}); read it by shape, not by importing agent code. */
export function schemaFailure(err: unknown): HttpError | null {
  if (!(err instanceof Error) || err.name !== 'DuckError') return null;
  const { code, data } = err as Error & { code?: string; data?: { field?: unknown } };
  if (code !== 'invalid') return null;
  const field = typeof data?.field === 'string' ? data.field : undefined;
  return new HttpError(400, 'invalid', err.message, field);
}
