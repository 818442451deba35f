import { DuckError } from '../../../schemas/errors.js';
import type { ControllerClient } from '../ports.js';

export function createControllerClient(baseUrl: string): ControllerClient {
  const url = baseUrl.replace(/\/+$/, '');
  const call = async <T>(
    path: string,
    token: string,
    init: { method?: 'GET' | 'POST'; body?: string | Uint8Array; contentType?: string; headers?: Record<string, string>; signal?: AbortSignal | undefined },
  ): Promise<T> => {
    const target = `${url}${path}`;
    const method = init.method ?? 'POST';
    let response: Response;
    try {
      response = await fetch(target, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(init.contentType ? { 'content-type': init.contentType } : {}), ...init.headers },
        ...(init.body !== undefined ? { body: init.body } : {}),
        ...(init.signal ? { signal: init.signal } : {}),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new DuckError('fetch', `${method} ${target}: ${why}`, { url: target, status: 0 }, 'transient', { cause: err });
    }
    const text = await response.text().catch(() => '');
    if (response.ok) return (text ? JSON.parse(text) : {}) as T;
    const body = parseErrorBody(text);
    const transient = response.status >= 500 || response.status === 429;
    const detail = body?.message ?? (text.slice(0, 200) || response.statusText);
    throw new DuckError(
      'fetch',
      `${method} ${target}: ${response.status}${body?.field ? ` ${body.field}` : ''}: ${detail}`,
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
    rollouts: (token, query, signal) => call(`/api/v1/rollouts?${new URLSearchParams(query).toString()}`, token, { method: 'GET', signal }),
  };
}

function parseErrorBody(text: string): { error?: string; message?: string; field?: string } | null {
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' ? (value as { error?: string; message?: string; field?: string }) : null;
  } catch {
    return null;
  }
}
