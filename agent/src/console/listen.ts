import { isIP } from 'node:net';
import { DuckError } from '../../../schemas/errors.js';

/** Where the console listens and how: plain HTTP on loopback, or TLS when asked for elsewhere. */
export interface ListenPlan {
  readonly host: string;
  readonly port: number;
  readonly tls: { readonly certFile: string; readonly keyFile: string } | null;
}

export interface ListenRequest {
  /** `--listen ADDR`: a host (IPv4 or IPv6) the operator names explicitly; absent means 127.0.0.1. */
  readonly listen?: string | undefined;
  readonly port: number;
  readonly tlsCert?: string | undefined;
  readonly tlsKey?: string | undefined;
}

export const LOOPBACK = '127.0.0.1';

export function isLoopback(host: string): boolean {
  return host === LOOPBACK || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Pure: the console's address policy (DESIGN §4.9). It acts as root on the node, so a port another
 * machine can reach is never opened by accident: anything but loopback needs `--listen` and a TLS
 * certificate and key, or the session cookie would cross the network in the clear.
 */
export function planListen(req: ListenRequest): ListenPlan {
  if (!Number.isInteger(req.port) || req.port < 0 || req.port > 65535) {
    throw new DuckError('usage', `console port ${req.port} is not a TCP port (0-65535)`, { field: '--port' });
  }
  const host = req.listen ?? LOOPBACK;
  if (isIP(host) === 0) throw new DuckError('usage', `--listen ${host}: give an IP address to listen on (127.0.0.1, ::1, or this node's address)`, { field: '--listen' });
  if ((req.tlsCert === undefined) !== (req.tlsKey === undefined)) {
    throw new DuckError('usage', 'the console needs both --tls-cert and --tls-key, or neither', { field: req.tlsCert === undefined ? '--tls-cert' : '--tls-key' });
  }
  const tls = req.tlsCert !== undefined && req.tlsKey !== undefined ? { certFile: req.tlsCert, keyFile: req.tlsKey } : null;
  if (!isLoopback(host) && tls === null) {
    throw new DuckError('usage', `the console refuses to listen on ${host} without TLS: give --tls-cert FILE and --tls-key FILE with --listen, or reach 127.0.0.1 through an SSH tunnel`, {
      field: '--tls-cert',
    });
  }
  return { host, port: req.port, tls };
}

/** The `host:port` a browser sends in `Host` for this address (IPv6 in brackets). */
export function hostHeader(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
