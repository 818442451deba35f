// The node's facts for enrollment and reports: what the controller shows of a node.
import { readFile } from 'node:fs/promises';
import { arch, hostname, release, type } from 'node:os';
import type { NodeFacts } from '../../../schemas/index.js';
import type { ComposeInfo, DockerEngine } from '../ports.js';

/** Each probe of Docker or Compose may hang on a wedged engine: facts are never worth waiting long for. */
const PROBE_MS = 10_000;

/** The engine and compose as the node's wiring reaches them. */
export interface EngineProbes {
  dockerVersion(): Promise<string | null>;
  composeVersion(): Promise<string | null>;
}

/** `agentVersion`: the running build's (schemas/build-info, read once by node/). */
export async function nodeFacts(group: string, agentVersion: string, probes: EngineProbes): Promise<NodeFacts> {
  const [pretty, docker, compose] = await Promise.all([osPrettyName(), probes.dockerVersion(), probes.composeVersion()]);
  return {
    hostname: hostname().slice(0, 253) || 'unknown',
    os: `${type().toLowerCase()} ${release()}${pretty ? ` (${pretty})` : ''}`.slice(0, 200),
    arch: arch().slice(0, 32),
    agentVersion: agentVersion.slice(0, 64),
    docker: docker?.slice(0, 64) ?? null,
    compose: compose?.slice(0, 64) ?? null,
    group,
  };
}

/** PRETTY_NAME from /etc/os-release, when the file is there and readable. */
export async function osPrettyName(file = '/etc/os-release'): Promise<string | null> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const match = /^PRETTY_NAME=(.*)$/m.exec(text);
  return match ? match[1]!.trim().replace(/^(["'])(.*)\1$/, '$2') : null;
}

/** The engine's version, or null when no engine answers. */
export async function dockerVersionOf(docker: DockerEngine): Promise<string | null> {
  return withTimeout(docker.version().then((v) => v.server || null));
}

/** 'v2 2.29.1' or 'v1 1.29.2', or null when no compose is found. */
export async function composeVersionOf(detect: () => Promise<ComposeInfo>): Promise<string | null> {
  return withTimeout(detect().then((c) => `${c.flavor} ${c.version}`));
}

function withTimeout<T>(work: Promise<T>): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), PROBE_MS);
    timer.unref();
  });
  return Promise.race([work.catch(() => null), timeout]).finally(() => clearTimeout(timer));
}
