/**
 * A release's own health probes (DESIGN §4.3 step 5): an HTTP status, an open TCP port, or a
 * command run inside a service. Each attempt is bounded by the probe's timeout; retrying is the
 * caller's business (apply/health.ts). An abort of the caller's signal is thrown, never reported as
 * a failed probe, so a cancelled wait does not read as an unhealthy release.
 */
import { connect } from 'node:net';
import type { Probe } from '../../../schemas/index.js';
import { isEngineUnreachable } from '../core/engine-fault.js';
import { formatDuration, parseDuration } from '../core/duration.js';

export const DEFAULT_PROBE_TIMEOUT_MS = 5_000;
/** Enough of a command's output to say why it failed, without flooding a report. */
const OUTPUT_TAIL = 300;

export type ExecInService = (service: string, argv: string[], timeoutMs: number) => Promise<{ code: number; output: string }>;

export interface ProbeContext {
  exec: ExecInService;
  signal?: AbortSignal;
  /** An upper bound on this attempt (what is left of the overall wait); the probe's own timeout applies below it. */
  maxTimeoutMs?: number;
}

export interface ProbeResult {
  ok: boolean;
  detail: string;
}

/** How a probe is named in logs and errors: its URL, "tcp host:port", or "command in <service>: argv". */
export function probeLabel(probe: Probe): string {
  if ('http' in probe) return probe.http;
  if ('tcp' in probe) return `tcp ${probe.tcp}`;
  return `command in ${probe.service}: ${probe.command.join(' ')}`;
}

export function probeTimeoutMs(probe: Probe): number {
  return probe.timeout === undefined ? DEFAULT_PROBE_TIMEOUT_MS : parseDuration(probe.timeout, { field: 'health.probes.timeout' });
}

export async function runProbe(probe: Probe, ctx: ProbeContext): Promise<ProbeResult> {
  ctx.signal?.throwIfAborted();
  const timeoutMs = Math.max(1, Math.min(probeTimeoutMs(probe), ctx.maxTimeoutMs ?? Infinity));
  if ('http' in probe) return httpProbe(probe.http, probe.status ?? 200, timeoutMs, ctx.signal);
  if ('tcp' in probe) return tcpProbe(probe.tcp, timeoutMs, ctx.signal);
  return commandProbe(probe.service, probe.command, timeoutMs, ctx);
}

async function httpProbe(url: string, expected: number, timeoutMs: number, signal?: AbortSignal): Promise<ProbeResult> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    // Redirects are followed (as Kubernetes' httpGet does): the status compared is the final page's.
    const response = await fetch(url, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    // Drop the body unread: an unconsumed body keeps the socket and, with it, the event loop alive.
    await response.body?.cancel().catch(() => undefined);
    return response.status === expected
      ? { ok: true, detail: `status ${response.status}` }
      : { ok: false, detail: `status ${response.status}, expected ${expected}` };
  } catch (err) {
    signal?.throwIfAborted();
    if (timeout.aborted) return { ok: false, detail: `no answer within ${formatDuration(timeoutMs)}` };
    return { ok: false, detail: describeNetworkError(err) };
  }
}

function tcpProbe(address: string, timeoutMs: number, signal?: AbortSignal): Promise<ProbeResult> {
  const target = parseHostPort(address);
  if (target === null) return Promise.resolve({ ok: false, detail: `"${address}" is not host:port` });
  return new Promise<ProbeResult>((resolve, reject) => {
    const socket = connect({ host: target.host, port: target.port });
    const finish = (settle: () => void): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      settle();
    };
    const onAbort = (): void => finish(() => reject(signal?.reason));
    const timer = setTimeout(() => finish(() => resolve({ ok: false, detail: `no connection within ${formatDuration(timeoutMs)}` })), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish(() => resolve({ ok: true, detail: 'connected' })));
    socket.once('error', (err) => finish(() => resolve({ ok: false, detail: describeNetworkError(err) })));
  });
}

async function commandProbe(service: string, argv: string[], timeoutMs: number, ctx: ProbeContext): Promise<ProbeResult> {
  try {
    const { code, output } = await ctx.exec(service, argv, timeoutMs);
    const tail = output.trim().slice(-OUTPUT_TAIL);
    if (code === 0) return { ok: true, detail: 'exit code 0' };
    return { ok: false, detail: `exit code ${code}${tail ? `: ${tail}` : ''}` };
  } catch (err) {
    ctx.signal?.throwIfAborted();
    // The engine not answering says nothing of the release: the health wait handles it (apply/health.ts).
    if (isEngineUnreachable(err)) throw err;
    // No container for the service yet, or docker refused the exec: a failed attempt, retried.
    return { ok: false, detail: err instanceof Error ? err.message : String(err) };
  }
}

/** "host:port" or "[v6 address]:port". */
export function parseHostPort(text: string): { host: string; port: number } | null {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  if (!match) return null;
  const port = Number(match[3]);
  if (port < 1 || port > 65_535) return null;
  return { host: (match[1] ?? match[2])!, port };
}

/** fetch hides the reason ("fetch failed") in `cause`; the code (ECONNREFUSED) is what an operator needs. */
function describeNetworkError(err: unknown): string {
  const cause = (err as { cause?: unknown }).cause ?? err;
  const code = (cause as { code?: unknown }).code;
  const message = cause instanceof Error ? cause.message : String(cause);
  return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
}
