// A scripted, in-memory stand-in for Docker and the backup store, for unit tests of the change
// state machine (apply/apply-change.ts): it keeps what a real engine would — which version of a
// project runs, its data and volumes, the backups — so a test can kill a change at any step,
// recover it, and check where the app ended. Fakes belong only here, in tests of pure logic.
import { createHash } from 'node:crypto';
import { freeze, produce } from 'immer';
import type { ReleaseFile } from '../../schemas/index.js';
import { DuckError } from '../../schemas/errors.js';
import { engineUnreachable } from '../../agent/src/core/engine-fault.js';
import type { ApplyEnv, ApplyServices, ApplySettings } from '../../agent/src/apply/apply-env.js';
import type { BackupRecord, BackupStore } from '../../agent/src/apply/backup-store.js';
import type { CommitTree } from '../../agent/src/channel/commit-tree.js';
import type { ReleaseContent } from '../../agent/src/channel/read-release.js';
import type { AgentState } from '../../agent/src/core/agent-state.js';
import { emptyAgentState } from '../../agent/src/core/agent-state.js';
import type { ComposeRuntime, ComposeTarget, Faults, StateSnapshot, StateStore } from '../../agent/src/ports.js';

/** One compose project as the scripted engine holds it. */
export interface ProjectState {
  /** The version whose containers exist, or null when there are none. */
  containers: string | null;
  running: boolean;
  /** The app's data: what a backup copies and a restore puts back. */
  data: string;
  volumes: boolean;
}

export interface ScriptedEngine {
  readonly projects: Map<string, ProjectState>;
  readonly backups: Map<string, { record: BackupRecord; data: string }>;
  /** Versions whose health check fails. */
  readonly unhealthy: Set<string>;
  /** Calls that fail as a refused one does (`create`, `start`, `backup`): the change's failure paths. */
  readonly failing: Set<string>;
  /** Every mutating call, in order: `up duck-shop 1.1.0`. */
  readonly calls: string[];
  /** The overlay's pins, as the pinVersion step leaves them. */
  readonly pins: Map<string, string>;
  /** While true, every engine call fails as a real one does when the Docker socket does not answer. */
  down: boolean;
  services(): ApplyServices;
  project(name: string): ProjectState;
}

export function scriptedEngine(): ScriptedEngine {
  const projects = new Map<string, ProjectState>();
  const backups = new Map<string, { record: BackupRecord; data: string }>();
  const unhealthy = new Set<string>();
  const failing = new Set<string>();
  const refuse = (call: string, name: string): void => {
    if (failing.has(call)) throw new DuckError('io', `${call} ${name} failed (scripted)`);
  };
  const calls: string[] = [];
  const pins = new Map<string, string>();
  let backupSeq = 0;
  const project = (name: string): ProjectState => {
    let p = projects.get(name);
    if (!p) projects.set(name, (p = { containers: null, running: false, data: '', volumes: false }));
    return p;
  };
  const versionOf = (target: ComposeTarget): string => target.env?.DUCK_VERSION ?? 'unknown';
  const reachable = (command: string): void => {
    if (engine.down) throw engineUnreachable(command, 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?');
  };
  const runtime: ComposeRuntime = {
    version: async () => ({ flavor: 'v2', version: '2.0.0', command: ['docker', 'compose'] }),
    up: async (name, target) => {
      reachable(`docker compose up ${name}`);
      calls.push(`up ${name} ${versionOf(target)}`);
      const p = project(name);
      p.containers = versionOf(target);
      p.running = true;
      p.volumes = true;
      // A version that runs may change its data (a migration): a rollback must undo that.
      p.data += `|ran ${p.containers}`;
    },
    // Created, not started: the old containers are gone, the new ones wait for start.
    create: async (name, target) => {
      reachable(`docker compose up --no-start ${name}`);
      const p = project(name);
      if (failing.has('create')) {
        // The worst a failed create leaves: the old containers removed, the new ones not all made.
        Object.assign(p, { containers: null, running: false });
        refuse('create', name);
      }
      calls.push(`create ${name} ${versionOf(target)}`);
      p.containers = versionOf(target);
      p.running = false;
      p.volumes = true;
    },
    start: async (name, target) => {
      reachable(`docker start ${name}`);
      const p = project(name);
      if (p.containers !== versionOf(target)) {
        await runtime.up(name, target);
        return { by: 'compose', reason: `the containers are ${p.containers ?? 'none'}'s` };
      }
      refuse('start', name);
      calls.push(`start ${name} ${versionOf(target)}`);
      p.running = true;
      p.data += `|ran ${p.containers}`;
      return { by: 'engine', containers: 1, startMs: 0 };
    },
    stop: async (name, target) => {
      reachable(`docker compose stop ${name}`);
      calls.push(`stop ${name} ${versionOf(target)}`);
      project(name).running = false;
    },
    down: async (name, target) => {
      reachable(`docker compose down ${name}`);
      calls.push(`down ${name} ${versionOf(target)}`);
      const p = project(name);
      p.containers = null;
      p.running = false;
    },
    ps: async (name) => {
      reachable(`docker ps ${name}`);
      const p = project(name);
      if (p.containers === null) return [];
      const workingDir = `/scripted/${name.replace(/^duck-/, '')}/releases/${p.containers}`;
      return [{ service: 'web', container: `${name}-web-1`, containerId: 'c0', image: `example:${p.containers}`, imageId: 'sha256:0', state: p.running ? 'running' : 'exited', health: unhealthy.has(p.containers) ? 'unhealthy' : 'none', exitCode: 0, labels: { 'com.docker.compose.project.working_dir': workingDir } }];
    },
  };
  const store: BackupStore = {
    dir: '/backups',
    assertRoom: async () => undefined,
    // A pre-copy reads the data and changes nothing of the project: the backup after the stop is what counts.
    precopy: async (input) => {
      calls.push(`precopy ${input.key}`);
      return { key: input.key, files: {}, volumes: [...input.volumes], bytes: 0 };
    },
    precopied: async () => null,
    create: async (input) => {
      refuse('backup', input.app);
      const id = `${input.app}-${String(++backupSeq).padStart(4, '0')}`;
      calls.push(`backup ${id}`);
      const record = { id, app: input.app, version: input.version, createdAt: new Date(0).toISOString(), reason: input.reason, bytes: 1, paths: [...input.paths], volumes: input.volumes.map((v) => v.name), absent: [], files: {}, symlinks: {} } satisfies BackupRecord;
      backups.set(id, { record, data: project(`duck-${input.app}`).data });
      return record;
    },
    list: async (app) => ({ backups: [...backups.values()].map((b) => b.record).filter((r) => !app || r.app === app), broken: [] }),
    get: async (id) => known(id).record,
    verify: async (id) => known(id).record,
    restore: async (id) => {
      calls.push(`restore ${id}`);
      const b = known(id);
      project(`duck-${b.record.app}`).data = b.data;
      return b.record;
    },
    restoreRelease: async () => undefined,
    releaseDirOf: (id) => `/backups/${id}/release`,
    prune: async () => [],
    remove: async (id) => void backups.delete(id),
    cleanPartial: async () => [],
    leftovers: async () => [],
  };
  const known = (id: string) => {
    const b = backups.get(id);
    if (!b) throw new DuckError('not-found', `no backup ${id}`);
    return b;
  };
  const engine: ScriptedEngine = {
    projects,
    backups,
    unhealthy,
    failing,
    calls,
    pins,
    down: false,
    project,
    services: () => ({
      runtime,
      backups: store,
      ensureImages: async () => undefined,
      awaitHealthy: async (app, name, target) => {
        reachable(`docker ps ${name}`);
        const p = project(name);
        const version = versionOf(target);
        if (!p.running || p.containers !== version) throw new DuckError('unhealthy', `${app} ${version} is not running`);
        if (unhealthy.has(version)) throw new DuckError('unhealthy', `${app} ${version} never became healthy`);
      },
      volumes: async () => [],
      removeImages: async () => [],
      removeProjectVolumes: async (name) => {
        calls.push(`removeVolumes ${name}`);
        project(name).volumes = false;
        return [`${name}_data`];
      },
      pinVersion: async (app, version) => {
        calls.push(`pin ${app} ${version}`);
        pins.set(app, version);
      },
    }),
  };
  return engine;
}

/** The agent state kept in memory, with the real store's contract: frozen snapshots, writes through update(). */
export function memoryStateStore(seed: (s: AgentState) => void = () => undefined): StateStore {
  let current: StateSnapshot = freeze(
    produce(emptyAgentState(), (d: AgentState) => void seed(d)),
    true,
  );
  return {
    file: ':memory:',
    read: () => current,
    update: async (change) => (current = produce(current, (d: AgentState) => void change(d))),
  };
}

/** A release as a channel commit would give it: one compose file, its sha256, read from memory. */
export function memoryRelease(app: string, version: string, release: Partial<ReleaseFile> = {}): { content: ReleaseContent; tree: CommitTree } {
  const compose = `services:\n  web:\n    image: example/${app}:${version}\n`;
  const sha256 = createHash('sha256').update(compose).digest('hex');
  const dir = `releases/${app}/${version}`;
  const file: ReleaseFile = { app, version, files: { 'compose.yaml': { sha256 } }, ...release } as ReleaseFile;
  const blobs: Record<string, string> = { [`${dir}/compose.yaml`]: compose, [`${dir}/release.yaml`]: `app: ${app}\nversion: "${version}"\n` };
  const tree = {
    readFile: async (path: string) => {
      const text = blobs[path];
      if (text === undefined) throw new DuckError('not-found', `${path} is not in the commit`);
      return new TextEncoder().encode(text);
    },
  } as unknown as CommitTree;
  return { content: { app, version, dir, release: file, files: [{ path: 'compose.yaml', oid: '0'.repeat(40), sha256, size: compose.length }] }, tree };
}

/** An ApplyEnv over the scripted engine; `kill` records the kill point and never returns, as SIGKILL. */
export function scriptedEnv(opts: {
  engine: ScriptedEngine;
  state: StateStore;
  appsDir: string;
  faults?: Faults;
  onKill?: () => void;
  releases?: Record<string, Partial<ReleaseFile>>;
  /** apply.engineWait: how long an outage (engine.down) is waited out; none by default. */
  engineWaitMs?: number;
}): ApplyEnv {
  const settings: ApplySettings = { appsDir: opts.appsDir, backupsDir: '/backups', keepBackups: 3, keepReleases: 2, maxLockDeferMs: 3_600_000, minFreeBytes: 0, engineWaitMs: opts.engineWaitMs ?? 0 };
  return {
    settings,
    state: opts.state,
    clock: () => new Date('2026-11-30T12:00:00Z'),
    log: () => undefined,
    services: opts.engine.services(),
    overlay: {},
    overlayDir: opts.appsDir,
    readRelease: async (app, version) => memoryRelease(app, version, opts.releases?.[version] ?? {}),
    faults: opts.faults ?? { killAt: null, failHealthOf: null },
    kill: () => {
      opts.onKill?.();
      return new Promise<never>(() => undefined);
    },
    force: false,
    signal: null,
  };
}
