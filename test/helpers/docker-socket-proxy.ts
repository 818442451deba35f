// A Docker outage a test controls: a unix-socket proxy in front of the real engine's socket. The
// agent is run with DOCKER_HOST=unix://<proxy socket>; the test cuts the engine off (the socket
// gone, or every connection closed as soon as it opens) and brings it back. The engine itself and
// the containers keep running, as they do when dockerd restarts with live-restore or a socket
// proxy drops out.
import { rm } from 'node:fs/promises';
import type { Server, Socket } from 'node:net';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';

/** How the engine is unreachable: no socket at all (refused), or a socket that closes every call (EOF). */
export type OutageKind = 'gone' | 'reset';

export interface DockerSocketProxy {
  /** DOCKER_HOST for the agent. */
  readonly dockerHost: string;
  /** Connections forwarded so far: a test can check the agent really went through the proxy. */
  readonly forwarded: number;
  cut(kind: OutageKind): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startDockerSocketProxy(dir: string, upstream = '/var/run/docker.sock'): Promise<DockerSocketProxy> {
  const path = join(dir, 'docker-proxy.sock');
  const open = new Set<Socket>();
  let mode: 'forward' | OutageKind = 'forward';
  let forwarded = 0;
  let server: Server | null = null;

  const onConnection = (client: Socket): void => {
    if (mode === 'reset') {
      client.destroy();
      return;
    }
    forwarded++;
    const engine = connect(upstream);
    open.add(client).add(engine);
    const drop = (): void => {
      client.destroy();
      engine.destroy();
      open.delete(client);
      open.delete(engine);
    };
    client.on('error', drop).on('close', drop);
    engine.on('error', drop).on('close', drop);
    client.pipe(engine).pipe(client);
  };

  const listen = async (): Promise<void> => {
    await rm(path, { force: true });
    const s = createServer(onConnection);
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(path, () => resolve());
    });
    server = s;
  };
  const stop = async (): Promise<void> => {
    const s = server;
    server = null;
    for (const socket of open) socket.destroy();
    open.clear();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    await rm(path, { force: true });
  };

  await listen();
  return {
    dockerHost: `unix://${path}`,
    get forwarded() {
      return forwarded;
    },
    cut: async (kind) => {
      mode = kind;
      // Calls in flight die with the engine either way.
      for (const socket of open) socket.destroy();
      open.clear();
      if (kind === 'gone') await stop();
    },
    restore: async () => {
      mode = 'forward';
      if (!server) await listen();
    },
    close: stop,
  };
}
