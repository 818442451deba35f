/**
 * The ports: every thing the agent needs from the outside world, as interfaces, in this one
 * module. Adapters under adapters/ implement them; node/wiring.ts is the one place that builds an
 * adapter and hands it to the code that needs the port. Nothing here does I/O.
 */
import type { Immutable } from 'immer';
import type { RegisterMessage, ReportMessage } from '../../schemas/index.js';
import type { AgentState } from './core/agent-state.js';
import type { ComposeInfo, ComposeTarget, ServiceStatus } from './core/compose-model.js';

export type { ComposeFlavor, ComposeInfo, ComposeTarget, ContainerHealth, ContainerState, ServiceStatus } from './core/compose-model.js';

// ── Clock and log ──────────────────────────────────────────────────────────────────────────────

/** The agent's clock: an argument everywhere, so tests choose the time. */
export type Clock = () => Date;

/** One event per line with fields (`{event: 'step', app, step: 'backup', ms}`). */
export type Logger = (event: string, fields?: Record<string, unknown>) => void;

// ── State ──────────────────────────────────────────────────────────────────────────────────────

/** What a read of the state returns: a snapshot no later write changes, frozen against edits. */
export type StateSnapshot = Immutable<AgentState>;

/**
 * The agent's durable state (one document under the state directory). `read()` returns the
 * snapshot as of the last write; the only way to change it is `update()`, whose `change` edits a
 * draft that becomes the next snapshot once it is on disk.
 */
export interface StateStore {
  readonly file: string;
  read(): StateSnapshot;
  update(change: (draft: AgentState) => void): Promise<StateSnapshot>;
}

// ── Compose runtime ────────────────────────────────────────────────────────────────────────────

/**
 * One compose project per app. Every mutating call takes the target, because Compose v1 cannot
 * address a project without its files. Nothing here deletes volumes: data is never removed
 * implicitly (DESIGN §4.3). Only apply/'s executors call the mutating methods.
 */
export interface ComposeRuntime {
  /** The compose this runtime drives. */
  version(): Promise<ComposeInfo>;
  /** `up -d --remove-orphans`: create or update the project's containers and start them. */
  up(project: string, target: ComposeTarget): Promise<void>;
  /**
   * Issue 13: `up --no-start --force-recreate --remove-orphans`: the target's containers (and
   * networks) are made, not started, and replace the project's, which compose stops first. The
   * process starts while the old version still serves; only its last part is downtime.
   */
  create(project: string, target: ComposeTarget): Promise<void>;
  /**
   * Starts the containers `create` made for the target through the engine, in `depends_on` order;
   * where that would not be compose's own start (core/compose-start.ts), `up` instead. Says which.
   */
  start(project: string, target: ComposeTarget): Promise<StartedBy>;
  /** Stop the project's containers, keeping them. */
  stop(project: string, target: ComposeTarget): Promise<void>;
  /** Remove the project's containers and networks; volumes and bind-mounted data stay. */
  down(project: string, target: ComposeTarget): Promise<void>;
  /** The project's service containers (one-off `run` containers excluded), sorted by service and name. */
  ps(project: string): Promise<ServiceStatus[]>;
}

/** How `start` started the project: the engine's start of the created containers, or compose's `up` and why. */
/** How an upgrade's start ran; `startMs`: the engine's starts alone, the rest of the step is reading and listing. */
export type StartedBy = { readonly by: 'engine'; readonly containers: number; readonly startMs: number } | { readonly by: 'compose'; readonly reason: string };

// ── Docker engine (outside compose) ────────────────────────────────────────────────────────────

export interface ImageInfo {
  /** The image id, `sha256:<64 hex>`. */
  id: string;
  /** `repo:tag` names pointing at it. */
  repoTags: string[];
  /** `repo@sha256:…` names a registry gave it (empty after `docker load` on the classic image store). */
  repoDigests: string[];
}

export interface VolumeInfo {
  name: string;
  /** Where the volume's data lives on the host. */
  mountpoint: string;
}

/** What `docker load` reported: the names it tagged and the ids it loaded without a name. */
export interface LoadedImages {
  refs: string[];
  ids: string[];
}

export interface DockerVersion {
  client: string;
  server: string;
}

export interface DockerCallOptions {
  signal?: AbortSignal;
}

/** The few engine calls the agent makes outside compose: images and volumes. */
export interface DockerEngine {
  /** The image `ref` (a name, a digest ref or an id) names, or null when Docker has none. */
  imageInspect(ref: string): Promise<ImageInfo | null>;
  pull(ref: string, options?: DockerCallOptions): Promise<void>;
  /** `docker load` of an archive made by `docker save`. */
  load(file: string, options?: DockerCallOptions): Promise<LoadedImages>;
  tag(source: string, target: string): Promise<void>;
  /** Removes a name (and the image once no name is left); never forced, so an image in use stays. */
  removeImage(ref: string): Promise<void>;
  volumeInspect(name: string): Promise<VolumeInfo | null>;
  /** Names of the volumes compose made for a project (by its project label). */
  projectVolumes(project: string): Promise<string[]>;
  /** Only a planned purge calls this: data is never removed implicitly. */
  removeVolume(name: string): Promise<void>;
  version(): Promise<DockerVersion>;
  /** The `names` labels of every container, running or stopped, that carries `label`: one record per container. */
  containerLabels(label: string, names: readonly string[]): Promise<Array<Record<string, string>>>;
}

// ── Git (the channel's clone) ──────────────────────────────────────────────────────────────────

export interface TreeEntry {
  readonly mode: string;
  readonly path: string;
  readonly oid: string;
  readonly type: 'blob' | 'tree' | 'commit';
}

/** Read-only access to the objects of a local clone, by object id. */
export interface GitObjects {
  has(oid: string): Promise<boolean>;
  readCommitRaw(oid: string): Promise<Uint8Array>;
  /** A tree object's raw content: the channel code parses it, checking each entry's name. */
  readTreeRaw(oid: string): Promise<Uint8Array>;
  readBlob(oid: string): Promise<Uint8Array>;
  /** An object's type and declared size, read from its header without inflating it (a size cap is checked first). */
  sizeOf(oid: string): Promise<{ readonly type: string; readonly size: number }>;
}

/**
 * The channel's tip pointer (DESIGN §4.5): a small untrusted file naming the tip commit, read
 * before any git request. `memory` is the fetch stage's, kept for the process.
 */
export interface ChannelPointer {
  readonly url: string;
  /** The commit id the pointer names; a DuckError `fetch` when it cannot be read or is malformed. */
  read(): Promise<string>;
  readonly memory: PointerMemory;
}

/** When this process last asked the git host, and last fell back to it for a failed pointer (ms). */
export interface PointerMemory {
  gitAskedAt: number;
  fallbackAt: number | null;
  /** This process's place in [0, 1) within the safety net's spread (core/pointer-policy). */
  readonly spread: number;
  /** A commit the pointer named that no git source had: named again, it counts as a failed pointer. */
  unconfirmed: string | null;
}

/** Fetching the channel: one ref request when nothing moved, a pack download otherwise. */
export interface ChannelTransport {
  /**
   * The branch tip the server advertises: a single ref-advertisement request (to a mirror when
   * the one before fails). With `want` (the pointer's id), a server whose tip differs is passed
   * over for the next that has it.
   */
  remoteTip(want?: string): Promise<string>;
  /** The branch tip of the local clone, or null (no request). */
  localTip(): Promise<string | null>;
  /** agent.yaml channel.pointer, or null. */
  readonly pointer: ChannelPointer | null;
  /** Downloads what the local clone lacks up to the tip; returns the fetched tip. */
  fetch(): Promise<string>;
  /** Forgets the local clone so the next fetch starts from nothing (a broken clone is never trusted). */
  reset(): Promise<void>;
  readonly objects: GitObjects;
}

// ── Controller ─────────────────────────────────────────────────────────────────────────────────

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
  /** GET /api/v1/rollouts with the admin or read-only token; the body as sent, checked by the caller. */
  rollouts(token: string, query: Record<string, string>, signal?: AbortSignal): Promise<unknown>;
}

// ── Service manager (the agent's own process) ────────────────────────────────────────────────

/**
 * What starts and stops the agent daemon, and starts the updater outside it (DESIGN §4.7): an
 * updater that restarts the service it runs in is killed with it, so the updater always runs in a
 * unit or process group of its own. Adapters: systemd, and a detached process for hosts without it.
 */
export interface ServiceManager {
  readonly kind: 'systemd' | 'detached';
  /** Starts `duck self-update` outside the agent's service; returns once it is on its way. */
  startUpdater(args: readonly string[]): Promise<void>;
  /** Stops the daemon and returns once it is gone (bounded); a daemon not running is no error. */
  stopAgent(): Promise<void>;
  /** Starts the daemon from the build `current` points at; its health is the caller's to wait for. */
  startAgent(): Promise<void>;
}

// ── Faults (tests only) ────────────────────────────────────────────────────────────────────────

/**
 * Faults a test asks for, handed in by the composition root (the CLI reads them from its
 * environment); production code never reads the environment for them.
 */
export interface Faults {
  /**
   * `<step kind>:before|after`, `rollback:before`, or `rollback-<move>:before|after` for a move of
   * a rollback (stop, restore, switch, up, health): the process kills itself there (SIGKILL).
   */
  readonly killAt: string | null;
  /** A version whose health check fails on purpose. */
  readonly failHealthOf: string | null;
}

export const NO_FAULTS: Faults = { killAt: null, failHealthOf: null };
