import { dirname, join } from 'node:path';
import type { NodeFacts, OverlayFile } from '../../../schemas/index.js';
import { createControllerClient } from '../adapters/controller-client.js';
import { createDockerCli } from '../adapters/docker-cli.js';
import { openChannelPointer } from '../adapters/channel-pointer.js';
import { openGitChannel } from '../adapters/git-channel.js';
import { openStateStore } from '../adapters/state-lowdb.js';
import type { ApplyEnv, ApplyServices } from '../apply/apply-env.js';
import type { BackupStore } from '../apply/backup-store.js';
import { createBackupStore } from '../apply/backup-store.js';
import { parseCommitObject } from '../channel/commit-object.js';
import type { CommitTree } from '../channel/commit-tree.js';
import { openCommitTree } from '../channel/commit-tree.js';
import type { ReleaseContent } from '../channel/read-release.js';
import { readRelease } from '../channel/read-release.js';
import type { TrustedKey } from '../channel/signature.js';
import { composeVersionOf, dockerVersionOf, nodeFacts } from '../report/facts.js';
import type { ChannelTransport, Clock, ComposeRuntime, ControllerClient, DockerEngine, Faults, Logger, StateStore } from '../ports.js';
import { NO_FAULTS } from '../ports.js';
import { runningBuild } from './agent-decision.js';
import type { AgentConfig } from './config.js';
import { loadAgentConfig, loadAgentKeys } from './config.js';

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
  /** The agent's root keys, parsed (openpgp.js) when first asked for: a reading command never is. */
  readonly agentKeys: () => Promise<readonly TrustedKey[]>;
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
  const state = await openStateStore(config.stateDir);
  const clock = opts.clock ?? (() => new Date());
  const faults = opts.faults ?? NO_FAULTS;
  const transport = openGitChannel({
    url: config.channel.url,
    branch: config.channel.branch,
    gitdir: join(config.stateDir, 'channel.git'),
    token: config.channel.token,
    mirrors: config.channel.mirrors,
    pointer: config.channel.pointer ? openChannelPointer({ url: config.channel.pointer, deadlines: config.fetchDeadlines, now: () => clock().getTime() }) : null,
    maxFetchBytes: config.limits.maxFetchBytes,
    maxObjectBytes: config.limits.maxFileBytes,
    deadlines: config.fetchDeadlines,
    version: async () => runningBuild().version,
  });
  const docker = createDockerCli();
  const backups = createBackupStore(config.apply.backupsDir, { minFreeBytes: config.apply.minFreeBytes, now: clock });
  const parts: NodeParts = {
    config,
    state,
    transport,
    agentKeys: onceUntilFailed(() => loadAgentKeys(config)),
    clock,
    faults,
    docker,
    backups,
    runtime: onceUntilFailed(async () => {
      const [{ createComposeCli }, info] = await Promise.all([composeCli(), detectCompose()]);
      return createComposeCli(info);
    }),
    controller: config.controller ? createControllerClient(config.controller.url) : null,
    facts: () => nodeFacts(config.group, runningBuild().version, { dockerVersion: () => dockerVersionOf(docker), composeVersion: () => composeVersionOf(detectCompose) }),
    composeVersion: () => composeVersionOf(detectCompose),
    readRelease: async (app, version, commit) => {
      const objects = transport.objects;
      const parsed = parseCommitObject(await objects.readCommitRaw(commit), commit);
      const tree = openCommitTree(objects, commit, parsed.tree, config.limits);
      const content = await readRelease(tree, app, version, { file: `commit ${commit.slice(0, 12)}`, field: `/apps/${app}` });
      return { content, tree };
    },
    applyServices: async (log) => {
      const [{ applyServices }, runtime] = await Promise.all([import('./apply-services.js'), parts.runtime()]);
      return applyServices(parts, runtime, log);
    },
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

/** `make`'s answer, made on the first call and kept; a failure is not kept, so the next call tries again. */
function onceUntilFailed<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | null = null;
  return () =>
    (made ??= make().catch((err: unknown) => {
      made = null;
      throw err;
    }));
}

/** What a test's kill point does: the process ends at once, the journal as it was written. */
function killThisProcess(): Promise<never> {
  process.kill(process.pid, 'SIGKILL');
  return new Promise<never>(() => undefined);
}
