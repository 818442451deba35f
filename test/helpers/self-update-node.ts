// A node set up for the self-update tests: its builds laid out as the Debian package lays them out
// (`<root>/builds/<version>/`, `current` naming the installed one), agent.yaml's selfUpdate section
// pointing there with the detached service manager, a file server for the builds it is offered,
// and what the tests read back — the state's agentBuild, the updater's journal — polled by a count
// of reads, never by a time, with the agents' logs in the failure.
import { cp, mkdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as assert from 'uvu/assert';
import { parse, stringify } from 'yaml';
import { detachedServiceManager } from '../../agent/src/adapters/service-detached.js';
import type { AgentBuildFailure, AgentBuildState } from '../../agent/src/core/agent-build.js';
import type { UpdateJournal } from '../../agent/src/core/agent-update.js';
import type { ServiceManager } from '../../agent/src/ports.js';
import type { BuildFault } from './agent-builds.js';
import { makeBuild, packBuild, releaseYaml } from './agent-builds.js';
import type { FileServer } from './file-server.js';
import { startFileServer } from './file-server.js';

/** How many reads `eventually` makes, 100 ms apart, before it fails. */
const READS = 900;

export interface SelfUpdateNode {
  /** `<root>/builds`: one directory per build and the `current` link. */
  readonly builds: string;
  /** The daemon the detached service manager starts, run by `builds/current/duck`. */
  readonly service: ServiceManager;
  /** Serves `<root>/artifacts`, where `offer` puts the builds' tarballs. */
  readonly files: FileServer;
  /** The selfUpdate section's health wait, read by each new updater (a process reading agent.yaml). */
  setHealthTimeout(healthTimeout: string): Promise<void>;
  /** A build served by the file server; its `agents/<version>/agent.yaml` text. `wrongSha256`: a digest of other bytes. */
  offer(version: string, fault?: BuildFault, opts?: { wrongSha256?: boolean }): Promise<string>;
  /** The build `current` names. */
  current(): Promise<string>;
  agentBuild(): Promise<AgentBuildState>;
  /** The updater's journal, null before the first update. */
  journal(): Promise<UpdateJournal | null>;
  /** The journal once the update to `version` ended. */
  ended(version: string): Promise<UpdateJournal>;
  /** The failure recorded for `version` (the daemon folds the updater's journal in at its next cycle). */
  failure(version: string): Promise<AgentBuildFailure>;
  /** Reads until `read` gives a value, or fails saying `what` with the end of the agents' logs. */
  eventually<T>(read: () => Promise<T | null | undefined>, what: string): Promise<T>;
  /** Stops the daemon and the file server. */
  close(): Promise<void>;
}

/**
 * Lays out `<root>/builds` with `installed` (a build of the repository's bundle) as `current` and
 * writes agent.yaml's selfUpdate section; the daemon is not started (`service.startAgent()`).
 */
export async function setUpSelfUpdateNode(root: string, node: { readonly stateDir: string; readonly configFile: string }, opts: { healthTimeout: string; installed?: string }): Promise<SelfUpdateNode> {
  const builds = join(root, 'builds');
  const artifacts = join(root, 'artifacts');
  const logFile = join(root, 'agent.log');
  const installed = opts.installed ?? '0.1.0';
  await mkdir(builds, { recursive: true });
  await cp(await makeBuild(join(root, 'made'), installed), join(builds, installed), { recursive: true });
  await symlink(installed, join(builds, 'current'));
  const files = await startFileServer({ root: artifacts });
  const service = detachedServiceManager({ stateDir: node.stateDir, launcher: join(builds, 'current', 'duck'), configFile: node.configFile, logFile });

  const journal = async (): Promise<UpdateJournal | null> =>
    JSON.parse(await readFile(join(node.stateDir, 'self-update', 'journal.json'), 'utf8').catch(() => 'null')) as UpdateJournal | null;
  const agentBuild = async (): Promise<AgentBuildState> =>
    (JSON.parse(await readFile(join(node.stateDir, 'state.json'), 'utf8')) as { agentBuild: AgentBuildState }).agentBuild;
  const logs = async (): Promise<string> =>
    `${await readFile(logFile, 'utf8').catch(() => '')}\n${await readFile(join(node.stateDir, 'self-update', 'agent.log'), 'utf8').catch(() => '')}`;
  async function eventually<T>(read: () => Promise<T | null | undefined>, what: string): Promise<T> {
    for (let i = 0; i < READS; i++) {
      const value = await read().catch(() => null);
      if (value !== null && value !== undefined) return value;
      await sleep(100);
    }
    return assert.unreachable(`${what}; the agents' logs:\n${(await logs()).slice(-4000)}`) as never;
  }

  const self: SelfUpdateNode = {
    builds,
    service,
    files,
    async setHealthTimeout(healthTimeout) {
      const config = parse(await readFile(node.configFile, 'utf8')) as Record<string, unknown>;
      config.selfUpdate = { serviceManager: 'detached', buildsDir: builds, healthTimeout };
      await writeFile(node.configFile, stringify(config));
    },
    async offer(version, fault = null, { wrongSha256 = false } = {}) {
      const packed = await packBuild(await makeBuild(artifacts, version, fault));
      const sha256 = wrongSha256 ? 'f'.repeat(64) : packed.sha256;
      return releaseYaml(version, { url: files.url(`duck-${version}-linux-x64.tar.gz`), sha256, size: packed.size });
    },
    current: () => readlink(join(builds, 'current')),
    agentBuild,
    journal,
    ended: (version) =>
      eventually(async () => {
        const j = await journal();
        return j && j.to === version && j.outcome !== 'running' ? j : null;
      }, `no self-update to ${version} ended`),
    failure: (version) => eventually(async () => (await agentBuild()).failed[version], `no failure of ${version} recorded`),
    eventually,
    async close() {
      await service.stopAgent();
      await files.close();
    },
  };
  await self.setHealthTimeout(opts.healthTimeout);
  return self;
}
