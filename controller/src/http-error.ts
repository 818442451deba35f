// The one error shape of the HTTP API: a status, a closed code, and the field when one is to blame.
// Bodies are `{ error, message, field? }` (see middleware/errors.ts).
export type ApiErrorCode =
  | 'unauthenticated'
  | 'forbidden'
  | 'not-found'
  | 'conflict'
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
