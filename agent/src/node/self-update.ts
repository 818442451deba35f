// The self-update's wiring (DESIGN §4.7): the service manager agent.yaml asks for, the updater's
// dependencies, and — until the channel reader is wired in — a release read from a file.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { DuckError } from '../../../schemas/errors.js';
import { detachedServiceManager } from '../adapters/service-detached.js';
import { systemdRuns, systemdServiceManager } from '../adapters/service-systemd.js';
import { openStateStore } from '../adapters/state-lowdb.js';
import { progressPrinter } from '../apply/archive-download.js';
import type { AgentArtifact, AgentBuildFailure, AgentRelease } from '../core/agent-build.js';
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
 * An `agents/<version>/agent.yaml` read from a file (`duck self-update --release-file`): the same
 * fields the channel's reader gives, the digest of the file's bytes, no commit. Errors name the
 * file and field.
 */
export async function readReleaseFile(file: string): Promise<AgentRelease> {
  const bytes = await readFile(file).catch((err: NodeJS.ErrnoException) => {
    throw new DuckError('config', `${file}: ${err.code === 'ENOENT' ? 'not found' : err.message}`, { file });
  });
  const bad = (field: string, what: string): DuckError => new DuckError('invalid', `${file}: ${field}: ${what}`, { file, field });
  let doc: unknown;
  try {
    doc = parse(bytes.toString('utf8'));
  } catch (err) {
    throw bad('/', `not YAML (${(err as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null) throw bad('/', 'must be a mapping');
  const { version, notes, artifacts } = doc as { version?: unknown; notes?: unknown; artifacts?: unknown };
  if (typeof version !== 'string' || !/^[0-9A-Za-z][0-9A-Za-z.+-]*$/.test(version)) throw bad('/version', 'must be a version string');
  if (notes !== undefined && typeof notes !== 'string') throw bad('/notes', 'must be a string');
  if (typeof artifacts !== 'object' || artifacts === null || Object.keys(artifacts).length === 0) throw bad('/artifacts', 'must list at least one platform');
  const checked: Record<string, AgentArtifact> = {};
  for (const [platform, a] of Object.entries(artifacts as Record<string, unknown>)) {
    const { url, sha256, size } = (a ?? {}) as { url?: unknown; sha256?: unknown; size?: unknown };
    if (typeof url !== 'string' || !/^https?:\/\/\S+$/.test(url)) throw bad(`/artifacts/${platform}/url`, 'must be an http(s) URL');
    if (typeof sha256 !== 'string' || !/^[a-f0-9]{64}$/.test(sha256)) throw bad(`/artifacts/${platform}/sha256`, 'must be 64 lower-case hex digits');
    if (typeof size !== 'number' || !Number.isInteger(size) || size <= 0) throw bad(`/artifacts/${platform}/size`, 'must be a positive integer');
    checked[platform] = { url, sha256, size };
  }
  return { version, notes: notes ?? '', artifacts: checked, digest: createHash('sha256').update(bytes).digest('hex'), commit: '' };
}
