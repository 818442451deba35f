// What compose and Docker report of a project, as plain values: the pure health verdict reads
// them, the compose runtime port returns them.

/** Compose v2 (the `docker compose` plugin, or a v2 standalone binary) or v1 (`docker-compose`). */
export type ComposeFlavor = 'v2' | 'v1';

export interface ComposeInfo {
  flavor: ComposeFlavor;
  /** What the binary says of itself, without a leading "v": "2.29.1", "1.29.2". */
  version: string;
  /** The argv prefix that runs compose: ['docker', 'compose'] or ['docker-compose']. */
  command: string[];
}

/** Where one app's compose project lives and what its files are interpolated with. */
export interface ComposeTarget {
  /** The release directory; relative paths in the compose files resolve from here. */
  cwd: string;
  /** Compose files, relative to cwd or absolute, merged in order: the release's first, overrides after. */
  files: string[];
  /** Interpolation variables, on top of the agent's own environment. */
  env?: Record<string, string>;
}

/** Docker's container states (`State.Status`). */
export type ContainerState = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

/** A compose healthcheck's verdict; `none` when the service declares no healthcheck. */
export type ContainerHealth = 'starting' | 'healthy' | 'unhealthy' | 'none';

/** One container of a project's service, as Docker reports it now. */
export interface ServiceStatus {
  service: string;
  /** Container name, without the leading slash. */
  container: string;
  containerId: string;
  /** The image reference the container was created from, as written in the compose file. */
  image: string;
  /** The image id (`sha256:…`) the container runs. */
  imageId: string;
  state: ContainerState;
  health: ContainerHealth;
  /** The last exit code (0 while running). */
  exitCode: number;
  labels: Record<string, string>;
}

/** The label compose puts on every container it makes: the one truth of which project a container is in. */
export const PROJECT_LABEL = 'com.docker.compose.project';
