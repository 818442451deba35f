// Request bodies under a byte cap. A body past the cap is refused with 413 without being kept;
// the rest is read and dropped (up to a bound) so the client can read the answer instead of
// meeting a reset connection, and past that bound the connection is closed.
import type { IncomingMessage } from 'node:http';
import type { Context } from 'koa';
import { validateValue, type SchemaName, type SchemaTypes } from '../../../schemas/index.js';
import { DuckError } from '../../../schemas/errors.js';
import { HttpError } from '../http-error.js';

/** How much of an over-cap body is read and dropped before the connection is closed instead. */
const DISCARD_LIMIT_BYTES = 16 * 1024 * 1024;
const DISCARD_TIMEOUT_MS = 10_000;

export function declaredLength(req: IncomingMessage): number | null {
  const header = req.headers['content-length'];
  if (header === undefined) return null;
  const n = Number(header);
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}

/** Reads and drops the rest of a refused body; closes the connection past the bound. */
export function discardBody(req: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    if (req.complete) return resolve();
    let seen = 0;
    const finish = (): void => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', finish);
      req.off('close', finish);
      req.off('error', finish);
      resolve();
    };
    const onData = (chunk: Buffer): void => {
      seen += chunk.length;
      if (seen > DISCARD_LIMIT_BYTES) {
        req.socket.destroy();
        finish();
      }
    };
    const timer = setTimeout(() => {
      req.socket.destroy();
      finish();
    }, DISCARD_TIMEOUT_MS);
    req.on('data', onData);
    req.on('end', finish);
    req.on('close', finish);
    req.on('error', finish);
    req.resume();
  });
}

export async function refuseTooLarge(ctx: Context, limit: number, what: string): Promise<never> {
  ctx.set('Connection', 'close');
  await discardBody(ctx.req);
  throw new HttpError(413, 'too-large', `${what} is larger than ${limit} bytes`);
}

/** Reads the whole body, or returns null as soon as it passes `limit` bytes (listeners removed). */
function readCapped(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const stop = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > limit) {
        stop();
        req.pause();
        resolve(null);
      } else chunks.push(chunk);
    };
    const onEnd = (): void => {
      stop();
      resolve(Buffer.concat(chunks, total));
    };
    const onError = (err: Error): void => {
      stop();
      reject(err);
    };
    const onClose = (): void => {
      stop();
      reject(new Error('the client closed the connection before the body ended'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/** A JSON body of at most `limit` bytes: 415 when not JSON, 413 past the cap, 400 when it does not parse. */
export async function readJsonBody(ctx: Context, limit: number): Promise<unknown> {
  const type = ctx.get('Content-Type');
  if (type && !/^application\/([a-z.+-]*\+)?json\b/i.test(type)) {
    throw new HttpError(415, 'unsupported-media-type', `expected Content-Type application/json, got ${type}`);
  }
  const length = declaredLength(ctx.req);
  if (length !== null && length > limit) return refuseTooLarge(ctx, limit, 'the body');
  const raw = await readCapped(ctx.req, limit);
  if (raw === null) return refuseTooLarge(ctx, limit, 'the body');
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch (err) {
    throw new HttpError(400, 'malformed-json', `the body is not JSON: ${(err as Error).message}`);
  }
}

/** A JSON body (readJsonBody) validated against the named schema: 400 naming the field when it is not one. */
export async function readValidBody<N extends SchemaName>(ctx: Context, name: N, limit: number, where: string): Promise<SchemaTypes[N]> {
  const body = await readJsonBody(ctx, limit);
  try {
    return validateValue(name, body, where);
  } catch (err) {
    throw schemaFailure(err) ?? err;
  }
}

/** schemas/index.ts throws DuckError('invalid', …, {field}): the body's own fault, so a 400 naming the field. */
function schemaFailure(err: unknown): HttpError | null {
  if (!(err instanceof DuckError) || err.code !== 'invalid') return null;
  return new HttpError(400, 'invalid', err.message, err.data.field);
}
