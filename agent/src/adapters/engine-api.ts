/**
 * The Docker Engine API over its unix socket (node:http), for the one place where a docker CLI
 * process is felt: an upgrade's `up` step lists the project's created containers and starts them
 * while the app is down (issue 13). Three CLI processes (`ps`, `inspect`, `start`) cost about a
 * second there; two requests per container on a socket cost milliseconds. Used only where the
 * socket is clearly the engine the CLI would talk to (`engineSocketOf`); elsewhere the CLI stays.
 */
import { request } from 'node:http';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { DuckError } from '../../../schemas/errors.js';
import type { ContainerHealth, ContainerState, ServiceStatus } from '../ports.js';
import { PROJECT_LABEL } from '../core/compose-model.js';
import { engineUnreachable } from '../core/engine-fault.js';
import { SERVICE_LABEL, serviceRows } from './compose-rows.js';

/** Where the docker CLI looks when neither DOCKER_HOST nor a context says otherwise. */
export const DEFAULT_SOCKET = '/var/run/docker.sock';

/** The engine's socket to call, or why the CLI must make the call (it would talk to another engine). */
export type EngineRoute = { readonly socketPath: string } | { readonly cli: string };

/**
 * Whether the docker CLI, run with `env` and the docker config file's text (null when there is
 * none), would talk to a unix socket, and which. Any context but `default` may point anywhere
 * (ssh, tcp with TLS): the CLI resolves those, so they keep the CLI. Pure.
 */
export function engineSocketOf(env: Readonly<Record<string, string | undefined>>, dockerConfig: string | null): EngineRoute {
  const envContext = env.DOCKER_CONTEXT ?? '';
  if (envContext !== '' && envContext !== 'default') return { cli: `DOCKER_CONTEXT is ${envContext}` };
  const fileContext = currentContextOf(dockerConfig);
  if (fileContext === null) return { cli: 'the docker config file is not JSON' };
  if (fileContext !== '' && fileContext !== 'default') return { cli: `the docker config's current context is ${fileContext}` };
  const host = env.DOCKER_HOST ?? '';
  if (host === '') return { socketPath: DEFAULT_SOCKET };
  const path = host.startsWith('unix://') ? host.slice('unix://'.length) : '';
  if (!isAbsolute(path)) return { cli: `DOCKER_HOST ${host} is not a unix socket path` };
  return { socketPath: path };
}

/** The config's `currentContext` ('' when it names none or there is no file); null when the text is not a JSON object. */
function currentContextOf(text: string | null): string | null {
  if (text === null || text.trim() === '') return '';
  try {
    const config = JSON.parse(text) as unknown;
    if (typeof config !== 'object' || config === null || Array.isArray(config)) return null;
    const current = (config as { currentContext?: unknown }).currentContext;
    return typeof current === 'string' ? current : '';
  } catch {
    return null;
  }
}

/** The route for `env`, reading the docker config file where the CLI reads it (DOCKER_CONFIG, else ~/.docker). */
export async function findEngineRoute(env: Readonly<Record<string, string | undefined>>): Promise<EngineRoute> {
  const file = join(env.DOCKER_CONFIG || join(homedir(), '.docker'), 'config.json');
  let text: string | null;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return { cli: `the docker config ${file} is unreadable` };
    text = null;
  }
  return engineSocketOf(env, text);
}

/** `GET` path listing every container (stopped ones too) of one compose project, filtered by the engine. */
export function listPath(project: string): string {
  return `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ label: [`${PROJECT_LABEL}=${project}`] }))}`;
}

/** `POST` path starting one container. */
export function startPath(id: string): string {
  return `/containers/${encodeURIComponent(id)}/start`;
}

/** One entry of `GET /containers/json` (the fields read). */
export interface ListedContainer {
  Id: string;
  Names?: string[] | null;
  Image?: string;
  ImageID?: string;
  State?: string;
  /** "Up 2 minutes (healthy)", "Exited (137) 5 seconds ago": the list's only word on health and exit code. */
  Status?: string;
  Labels?: Record<string, string> | null;
}

/**
 * The list's answer as the rows `docker inspect` gives (compose-cli `parseInspect`): the same
 * containers, names, ids, states and labels. Health and exit code come from the Status text.
 */
export function listedStatuses(listed: readonly ListedContainer[]): ServiceStatus[] {
  return serviceRows(
    listed.map((c): ServiceStatus => {
      const labels = c.Labels ?? {};
      const status = c.Status ?? '';
      return {
        service: labels[SERVICE_LABEL] ?? '',
        container: (c.Names?.[0] ?? '').replace(/^\//, ''),
        containerId: c.Id,
        image: c.Image ?? '',
        imageId: c.ImageID ?? '',
        state: (c.State || 'dead') as ContainerState,
        health: healthOf(status),
        exitCode: Number(/^Exited \((\d+)\)/.exec(status)?.[1] ?? 0),
        labels,
      };
    }),
  );
}

function healthOf(status: string): ContainerHealth {
  if (/\(healthy\)/.test(status)) return 'healthy';
  if (/\(unhealthy\)/.test(status)) return 'unhealthy';
  if (/\(health: starting\)/.test(status)) return 'starting';
  return 'none';
}

export interface EngineApi {
  readonly socketPath: string;
  /** The project's compose service containers, as `ps` reads them. */
  listProject(project: string): Promise<ServiceStatus[]>;
  /** Starts each container in the order given, each after the previous one's start returned (a running one is left be). */
  start(ids: readonly string[]): Promise<void>;
}

export function createEngineApi(socketPath: string): EngineApi {
  return {
    socketPath,
    listProject: async (project) => {
      const path = listPath(project);
      const body = await call(socketPath, 'GET', path);
      let listed: unknown;
      try {
        listed = JSON.parse(body);
      } catch (err) {
        throw new DuckError('io', `Docker Engine API \`GET ${path}\` answered no JSON: ${body.slice(0, 200)}`, { socketPath }, 'transient', { cause: err });
      }
      if (!Array.isArray(listed)) throw new DuckError('io', `Docker Engine API \`GET ${path}\` answered no list`, { socketPath }, 'transient');
      return listedStatuses(listed as ListedContainer[]);
    },
    start: async (ids) => {
      for (const id of ids) await call(socketPath, 'POST', startPath(id));
    },
  };
}

/**
 * One request; resolves with the body of a 2xx or 304 (started already) answer. No answer at all
 * (socket missing, refused, cut mid-answer) is the engine not answering, classified as the CLI's
 * "Cannot connect to the Docker daemon" is; an answer with an error status is the engine refusing.
 */
function call(socketPath: string, method: 'GET' | 'POST', path: string): Promise<string> {
  const what = `${method} ${path}`;
  return new Promise((resolve, reject) => {
    const fail = (err: NodeJS.ErrnoException): void => {
      // A socket the agent may not open is a setup fault, as the CLI's "permission denied" is, not an outage.
      if (err.code === 'EACCES') {
        reject(new DuckError('io', `Docker Engine API \`${what}\` at ${socketPath} failed: ${err.message}`, { socketPath }, 'transient', { cause: err }));
      } else {
        reject(engineUnreachable(`${what} (Docker Engine API at ${socketPath})`, err.message, err));
      }
    };
    const req = request({ socketPath, method, path, headers: { host: 'docker', ...(method === 'POST' ? { 'content-length': 0 } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', fail);
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        if ((status >= 200 && status < 300) || status === 304) return resolve(body);
        reject(new DuckError('io', `Docker Engine API \`${what}\` failed: HTTP ${status}: ${engineMessage(body)}`, { socketPath, status }, 'transient'));
      });
    });
    req.on('error', fail);
    req.end();
  });
}

/** The engine's `{"message": ...}` error body, else the body's start. */
function engineMessage(body: string): string {
  try {
    const message = (JSON.parse(body) as { message?: unknown }).message;
    if (typeof message === 'string') return message;
  } catch {
    // not JSON: quoted as it came
  }
  return body.trim().slice(0, 300);
}
