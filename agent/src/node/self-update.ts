// The self-update's wiring (DESIGN §4.7): the service manager agent.yaml asks for, the updater's
// dependencies, and a release read from a file (`--release-file`) as the channel's reader reads it.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckError } from '../../../schemas/errors.js';
import { detachedServiceManager } from '../adapters/service-detached.js';
import { systemdRuns, systemdServiceManager } from '../adapters/service-systemd.js';
import { openStateStore } from '../adapters/state-lowdb.js';
import { progressPrinter } from '../apply/archive-download.js';
import { parseAgentRelease } from '../channel/read-agent-release.js';
import type { AgentBuildFailure, AgentRelease } from '../core/agent-build.js';
import type { Logger, ServiceManager } from '../ports.js';
import { selfUpdateDir } from '../self-update/journal-file.js';
import type { UpdaterDeps } from '../self-update/updater.js';
import { runningBuild } from './agent-decision.js';
import type { AgentConfig } from './config.js';

export function serviceManagerFor(config: AgentConfig): ServiceManager {
  const kind = config.selfUpdate.serviceManager === 'auto' ? (systemdRuns() ? 'systemd' : 'detached') : config.selfUpdate.serviceManager;
  if (kind === 'systemd') return systemdServiceManager({ config: config.file });
  return detachedServiceManager({
    stateDir: config.stateDir,
    launcher: join(config.selfUpdate.buildsDir, 'current', 'duck'),
    configFile: config.file,
    logFile: join(selfUpdateDir(config.stateDir), 'agent.log'),
  });
}

/** The updater as agent.yaml sets it up; download progress goes to `progress` (stderr) when given. */
export function updaterDeps(config: AgentConfig, opts: { log: Logger; killAt?: string | null; progress?: NodeJS.WritableStream & { isTTY?: boolean } }): UpdaterDeps {
  return {
    stateDir: config.stateDir,
    buildsDir: config.selfUpdate.buildsDir,
    configFile: config.file,
    healthTimeoutMs: config.selfUpdate.healthTimeoutMs,
    service: serviceManagerFor(config),
    now: () => new Date(),
    log: opts.log,
    running: runningBuild().version,
    killAt: opts.killAt ?? null,
    ...(opts.progress ? { onProgress: progressPrinter(opts.progress, 'agent build') } : {}),
  };
}

/** How `version` failed on this node, if it did (a read of the state: no writer needed). */
export async function failureOf(config: AgentConfig, version: string): Promise<AgentBuildFailure | null> {
  return (await openStateStore(config.stateDir)).read().agentBuild.failed[version] ?? null;
}

/**
 * An `agents/<version>/agent.yaml` read from a file (`duck self-update --release-file`): checked as
 * the channel's reader checks it, the digest of the file's bytes, no commit. Errors name the file
 * and field.
 */
export async function readReleaseFile(file: string): Promise<AgentRelease> {
  const bytes = await readFile(file).catch((err: NodeJS.ErrnoException) => {
    throw new DuckError('config', `${file}: ${err.code === 'ENOENT' ? 'not found' : err.message}`, { file });
  });
  return parseAgentRelease(bytes, file, '');
}
