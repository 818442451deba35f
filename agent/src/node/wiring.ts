import { dirname, join } from 'node:path';
import type { NodeFacts, OverlayFile } from '../../../schemas/index.js';
import { DuckError } from '../../../schemas/errors.js';
import { createControllerClient } from '../adapters/controller-client.js';
import { createDockerCli } from '../adapters/docker-cli.js';
import { openGitChannel } from '../adapters/git-channel.js';
import { editOverlay } from '../adapters/overlay-file.js';
import { openStateStore } from '../adapters/state-lowdb.js';
import type { ApplyEnv, ApplyServices } from '../apply/apply-env.js';
import { progressPrinter } from '../apply/archive-download.js';
import type { BackupStore } from '../apply/backup-store.js';
import { createBackupStore } from '../apply/backup-store.js';
import { composeServices } from '../apply/compose-target.js';
import { awaitHealthy, dockerExec } from '../apply/health.js';
import { ensureImages } from '../apply/images.js';
import { parseCommitObject } from '../channel/commit-object.js';
import type { CommitTree } from '../channel/commit-tree.js';
import { openCommitTree } from '../channel/commit-tree.js';
import type { ReleaseContent } from '../channel/read-release.js';
import { readRelease } from '../channel/read-release.js';
import { setPin } from '../core/overlay-edits.js';
import type { TrustedKey } from '../channel/signature.js';
import { composeVersionOf, dockerVersionOf, nodeFacts } from '../report/facts.js';
import type { ChannelTransport, Clock, ComposeRuntime, ControllerClient, DockerEngine, Faults, Logger, StateStore } from '../ports.js';
import { NO_FAULTS } from '../ports.js';
import type { AgentConfig } from './config.js';
import { loadAgentConfig, loadAgentKeys } from './config.js';
import { sparseProgressLog } from './progress-log.js';

/**
 * The composition root: the one place the agent's adapters are built and wired to its ports.
 * Everything below node/ receives what it needs as arguments; nothing else builds an adapter,
 * and nothing below reads the environment (the CLI hands the test faults in).
 */
export interface NodeOptions {
  readonly configFile: string;
  readonly faults?: Faults;
  readonly clock?: Clock;
}

/** One node's parts, wired once per process. */
export interface NodeParts {
  readonly config: AgentConfig;
  readonly state: StateStore;
  readonly transport: ChannelTransport;
  readonly agentKeys: readonly TrustedKey[];
  readonly clock: Clock;
  readonly faults: Faults;
  readonly docker: DockerEngine;
  readonly backups: BackupStore;
  /** Compose (v2 or v1), detected on first use: a reading command never starts one. */
  runtime(): Promise<ComposeRuntime>;
  /** The controller's client, or null when the config has no controller section. */
  readonly controller: ControllerClient | null;
  /** What the controller shows of this node (versions of the OS, Docker and compose). */
  facts(): Promise<NodeFacts>;
  /** 'v2 2.29.1', or null when no compose answers. */
  composeVersion(): Promise<string | null>;
  /** A release from the local clone, by object id. */
  readRelease(app: string, version: string, commit: string): Promise<{ content: ReleaseContent; tree: CommitTree }>;
  applyServices(log: Logger): Promise<ApplyServices>;
  applyEnv(services: ApplyServices, opts: { overlay: OverlayFile; log: Logger; force?: boolean; signal?: AbortSignal }): ApplyEnv;
}

/** The test fault hooks, read from an environment the caller hands in (the CLI passes its own). */
export function faultsFromEnvironment(env: Readonly<Record<string, string | undefined>>): Faults {
  return { killAt: env.DUCK_FAULT_KILL_AT || null, failHealthOf: env.DUCK_FAULT_FAIL_HEALTH || null };
}

// The compose adapter loads docker-compose (a tenth of a second of start-up): loaded when Compose
// is first needed, so a reading command such as `duck status` never pays for it.
const composeCli = () => import('../adapters/compose-cli.js');
const detectCompose = () => composeCli().then((m) => m.detectCompose());

export async function wireNode(opts: NodeOptions): Promise<NodeParts> {
  const config = await loadAgentConfig(opts.configFile);
  const agentKeys = await loadAgentKeys(config);
  const state = await openStateStore(config.stateDir);
  const clock = opts.clock ?? (() => new Date());
  const faults = opts.faults ?? NO_FAULTS;
  const transport = openGitChannel({
    url: config.channel.url,
    branch: config.channel.branch,
    gitdir: join(config.stateDir, 'channel.git'),
    token: config.channel.token,
    maxFetchBytes: config.limits.maxFetchBytes,
    maxObjectBytes: config.limits.maxFileBytes,
    deadlines: config.fetchDeadlines,
  });
  const docker = createDockerCli();
  const backups = createBackupStore(config.apply.backupsDir, { minFreeBytes: config.apply.minFreeBytes, now: clock });
  let runtime: Promise<ComposeRuntime> | null = null;
  const parts: NodeParts = {
    config,
    state,
    transport,
    agentKeys,
    clock,
    faults,
    docker,
    backups,
    runtime: () =>
      (runtime ??= Promise.all([composeCli(), detectCompose()]).then(
        ([{ createComposeCli }, info]) => createComposeCli(info),
        (err: unknown) => {
          runtime = null;
          throw err;
        },
      )),
    controller: config.controller ? createControllerClient(config.controller.url) : null,
    facts: () => nodeFacts(config.group, { dockerVersion: () => dockerVersionOf(docker), composeVersion: () => composeVersionOf(detectCompose) }),
    composeVersion: () => composeVersionOf(detectCompose),
    readRelease: async (app, version, commit) => {
      const objects = transport.objects;
      const parsed = parseCommitObject(await objects.readCommitRaw(commit), commit);
      const tree = openCommitTree(objects, commit, parsed.tree, config.limits);
      const content = await readRelease(tree, app, version, { file: `commit ${commit.slice(0, 12)}`, field: `/apps/${app}` });
      return { content, tree };
    },
    applyServices: async (log) => applyServices(parts, await parts.runtime(), log),
    applyEnv: (services, o) => ({
      settings: config.apply,
      state,
      clock,
      log: o.log,
      services,
      overlay: o.overlay,
      overlayDir: dirname(config.overlay),
      readRelease: parts.readRelease,
      faults,
      kill: killThisProcess,
      force: o.force ?? false,
      signal: o.signal ?? null,
    }),
  };
  return parts;
}

function applyServices(parts: NodeParts, runtime: ComposeRuntime, log: Logger): ApplyServices {
  const { docker, faults } = parts;
  // A bar on a terminal; otherwise a few log lines (start, end, now and then), never one per chunk.
  const progressOf = (app: string) => (process.stderr.isTTY ? progressPrinter(process.stderr, `${app} image`) : sparseProgressLog(log, app));
  return {
    runtime,
    backups: parts.backups,
    ensureImages: async (images, releaseDir, app, signal) => {
      await ensureImages(images ?? [], {
        releaseDir,
        ...(signal ? { signal } : {}),
        downloadsDir: join(parts.config.stateDir, 'downloads'),
        docker,
        onProgress: progressOf(app),
      });
    },
    awaitHealthy: async (app, project, target, probes, timeoutMs) => {
      if (faults.failHealthOf !== null && faults.failHealthOf === target.env?.DUCK_VERSION) {
        throw new DuckError('unhealthy', `${app}: health check failed on purpose (DUCK_FAULT_FAIL_HEALTH)`, { app });
      }
      const containerFor = async (service: string): Promise<string> => {
        const found = (await runtime.ps(project)).find((s) => s.service === service);
        if (!found) throw new Error(`service ${service} has no container`);
        return found.containerId;
      };
      const expectedServices = await composeServices(target);
      await awaitHealthy({
        runtime,
        project,
        app,
        expectedServices,
        probes,
        timeoutMs,
        exec: dockerExec(containerFor),
        onProgress: (line) => log('health', { app, line }),
        engineWaitMs: parts.config.apply.engineWaitMs,
      });
    },
    volumes: async (project, names) => {
      const found: Array<{ name: string; mountpoint: string }> = [];
      for (const name of names) {
        const volume = await docker.volumeInspect(`${project}_${name}`);
        if (volume) found.push({ name, mountpoint: volume.mountpoint });
      }
      return found;
    },
    removeImages: async (refs) => {
      const removed: string[] = [];
      for (const ref of refs) {
        try {
          await docker.removeImage(ref);
          removed.push(ref);
        } catch (err) {
          log('image-kept', { ref, reason: (err as Error).message });
        }
      }
      return removed;
    },
    removeProjectVolumes: async (project) => {
      const names = await docker.projectVolumes(project);
      for (const name of names) await docker.removeVolume(name);
      return names;
    },
    pinVersion: async (app, version) => {
      await editOverlay(parts.config.overlay, (doc) => void setPin(doc, app, version));
    },
  };
}

/** What a test's kill point does: the process ends at once, the journal as it was written. */
function killThisProcess(): Promise<never> {
  process.kill(process.pid, 'SIGKILL');
  return new Promise<never>(() => undefined);
}
