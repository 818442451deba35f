import type { RegisterMessage, ReportMessage } from '../../../schemas/index.js';
import { DuckError } from '../../../schemas/errors.js';

export interface ReportAnswer {
  readonly accepted: number;
  readonly duplicates: number;
}

export interface DiagnosticsAnswer {
  readonly id: string;
  readonly bytes: number;
  readonly sha256: string;
}

/**
 * The controller's HTTP API as the agent uses it (DESIGN §5). Every failure is a DuckError
 * 'fetch' with data {url, status, field}: retry 'transient' for a network error, a 5xx or a 429,
 * 'stalled' for an answer that a retry would only repeat (400, 401, 403, 413).
 */
export interface ControllerClient {
  readonly url: string;
  register(enrollToken: string, message: RegisterMessage, signal?: AbortSignal): Promise<{ agentId: string; token: string }>;
  report(token: string, message: ReportMessage, signal?: AbortSignal): Promise<ReportAnswer>;
  uploadDiagnostics(token: string, filename: string, body: Uint8Array, signal?: AbortSignal): Promise<DiagnosticsAnswer>;
}

export function createControllerClient(baseUrl: string): ControllerClient {
  const url = baseUrl.replace(/\/+$/, '');
  const call = async <T>(path: string, token: string, init: { body: string | Uint8Array; contentType: string; headers?: Record<string, string>; signal?: AbortSignal | undefined }): Promise<T> => {
    const target = `${url}${path}`;
    let response: Response;
    try {
      response = await fetch(target, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': init.contentType, ...init.headers },
        body: init.body,
        ...(init.signal ? { signal: init.signal } : {}),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new DuckError('fetch', `POST ${target}: ${why}`, { url: target, status: 0 }, 'transient', { cause: err });
    }
    const text = await response.text().catch(() => '');
    if (response.ok) return (text ? JSON.parse(text) : {}) as T;
    const body = parseErrorBody(text);
    const transient = response.status >= 500 || response.status === 429;
    const detail = body?.message ?? (text.slice(0, 200) || response.statusText);
    throw new DuckError(
      'fetch',
      `POST ${target}: ${response.status}${body?.field ? ` ${body.field}` : ''}: ${detail}`,
      { url: target, status: response.status, ...(body?.field ? { field: body.field } : {}), ...(body?.error ? { error: body.error } : {}) },
      transient ? 'transient' : 'stalled',
    );
  };
  return {
    url,
    register: (enrollToken, message, signal) => call('/api/v1/agents/register', enrollToken, { body: JSON.stringify(message), contentType: 'application/json', signal }),
    report: (token, message, signal) => call('/api/v1/reports', token, { body: JSON.stringify(message), contentType: 'application/json', signal }),
    uploadDiagnostics: (token, filename, body, signal) =>
      call('/api/v1/diagnostics', token, { body, contentType: 'application/gzip', headers: { 'x-duck-filename': filename }, signal }),
  };
}

/** The HTTP status of a controller failure (0: no answer at all), or null for any other error. */
export function controllerStatus(err: unknown): number | null {
  if (!(err instanceof DuckError) || err.code !== 'fetch' || typeof err.data.status !== 'number') return null;
  return err.data.status;
}

function parseErrorBody(text: string): { error?: string; message?: string; field?: string } | null {
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' ? (value as { error?: string; message?: string; field?: string }) : null;
  } catch {
    return null;
  }
}
