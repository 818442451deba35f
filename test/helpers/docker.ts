/**
 * Docker for the e2e tier: is an engine there (and fail loudly when it is not), what did Docker do
 * to a compose project (its events, to count mutations), and what its containers said when a test
 * failed. Listing and removing a project is examples/harness/compose-project.ts, which the demo shares.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { docker, lines, PROJECT_LABEL, projectContainers } from '../../examples/harness/compose-project.js';

const run = promisify(execFile);

/**
 * Call at the top of every e2e suite. A missing engine is an error, never a skip: an e2e test that
 * did not touch Docker has not exercised what it names (DESIGN §6).
 */
export async function requireDocker(): Promise<void> {
  try {
    await docker(['info', '--format', '{{.ServerVersion}}'], 20_000);
  } catch (err) {
    throw new Error(
      `the e2e tests need a Docker engine and none answers \`docker info\` (${(err as Error).message}). ` +
        'Start dockerd (.ci/run installs and starts one on CI), or run only `npm run test:unit`.',
      { cause: err },
    );
  }
}

/** A compose project name no other test run uses: lower-case, as both compose flavours require. */
export function uniqueProjectName(prefix: string): string {
  const suffix = `${process.pid.toString(36)}${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
  return `${prefix}-${suffix}`.toLowerCase().replace(/[^a-z0-9_-]/g, '-');
}

export type DockerEventType = 'container' | 'network' | 'volume';

export interface DockerEvent {
  type: DockerEventType;
  /** "create", "start", "health_status", "exec_create", … (Docker's action up to its first colon). */
  action: string;
  /** What follows the colon: "healthy" for health_status, the command for exec_*; else "". */
  detail: string;
  /** The container, network or volume id (a volume's name). */
  id: string;
  /** The container name, or the network or volume name. */
  name: string;
  /** When Docker says it happened (to the millisecond; events arrive in order). */
  time: Date;
  attributes: Record<string, string>;
}

/**
 * What changes Docker state. Healthchecks show up as exec_* and health_status events on every
 * interval, and `docker logs`/`inspect` as other reads: none of those is a mutation.
 */
export const MUTATING_ACTIONS: ReadonlySet<string> = new Set([
  'create', 'start', 'restart', 'stop', 'kill', 'die', 'destroy', 'pause', 'unpause', 'rename', 'update',
  'connect', 'disconnect', 'remove', 'mount', 'unmount', 'prune',
]);

/** The events that changed something (see MUTATING_ACTIONS). */
export function mutations(events: DockerEvent[]): DockerEvent[] {
  return events.filter((e) => MUTATING_ACTIONS.has(e.action));
}

/**
 * Docker's container, network and volume events for one compose project between `since` and
 * `until` (default: now). Containers carry the project label; networks and volumes carry only
 * their name ("<project>_default") and, on connect/mount, the container id — so those are matched
 * by name prefix or by a container of the project.
 */
export async function dockerEvents(options: { project: string; since: Date; until?: Date }): Promise<DockerEvent[]> {
  const until = options.until ?? new Date();
  const out = await docker([
    'events',
    '--since', dockerTimestamp(options.since),
    '--until', dockerTimestamp(until),
    '--format', '{{json .}}',
    '--filter', 'type=container',
    '--filter', 'type=network',
    '--filter', 'type=volume',
  ]);
  const events = lines(out).map(parseEvent).filter((e): e is DockerEvent => e !== null);
  const containers = new Set(
    events.filter((e) => e.type === 'container' && e.attributes[PROJECT_LABEL] === options.project).map((e) => e.id),
  );
  const prefix = `${options.project}_`;
  return events.filter((e) =>
    e.type === 'container'
      ? containers.has(e.id)
      : e.name.startsWith(prefix) || containers.has(e.attributes.container ?? ''),
  );
}

/** "seconds.nanoseconds", the one form `docker events` reads without a time-zone guess. */
function dockerTimestamp(date: Date): string {
  const ms = date.getTime();
  return `${Math.floor(ms / 1000)}.${String((ms % 1000) * 1_000_000).padStart(9, '0')}`;
}

function parseEvent(line: string): DockerEvent | null {
  const raw = JSON.parse(line) as {
    Type?: string;
    Action?: string;
    Actor?: { ID?: string; Attributes?: Record<string, string> };
    timeNano?: number | string;
  };
  if (raw.Type !== 'container' && raw.Type !== 'network' && raw.Type !== 'volume') return null;
  const [action = '', ...rest] = (raw.Action ?? '').split(':');
  const attributes = raw.Actor?.Attributes ?? {};
  return {
    type: raw.Type,
    action: action.trim(),
    detail: rest.join(':').trim(),
    id: raw.Actor?.ID ?? '',
    name: attributes.name ?? '',
    time: new Date(Math.floor(Number(raw.timeNano ?? 0) / 1e6)),
    attributes,
  };
}

/** The ids of a project's running containers. */
export async function runningContainers(project: string): Promise<string[]> {
  return lines(await docker(['ps', '-q', '--no-trunc', '--filter', `label=${PROJECT_LABEL}=${project}`]));
}

/** The names of the named volumes compose made for a project. */
export async function projectVolumes(project: string): Promise<string[]> {
  return lines(await docker(['volume', 'ls', '-q', '--filter', `label=${PROJECT_LABEL}=${project}`]));
}

/** Where a named volume's files are on this host (the tests run as root beside the engine). */
export async function volumeMountpoint(name: string): Promise<string> {
  return (await docker(['volume', 'inspect', '--format', '{{.Mountpoint}}', name])).trim();
}

/** The logs, state and health log of a project's containers, as text for a failure message. */
export async function describeProject(project: string, tailLines = 40): Promise<string> {
  const parts: string[] = [];
  for (const id of await projectContainers(project)) {
    const inspect = await docker(['inspect', '--format', '{{.Name}} {{.State.Status}} exit={{.State.ExitCode}} health={{json .State.Health}}', id])
      .catch((err: Error) => err.message);
    const logs = await run('docker', ['logs', '--tail', String(tailLines), id], { maxBuffer: 16 * 1024 * 1024 })
      .then(({ stdout, stderr }) => stdout + stderr)
      .catch((err: Error) => err.message);
    parts.push(`${inspect.trim()}\n${logs.trim()}`);
  }
  return parts.length > 0 ? parts.join('\n---\n') : `(no containers in project ${project})`;
}

/**
 * Writes `describeProject` into DUCK_TEST_ARTIFACTS (set by test/run-tiers.mjs) so a CI failure
 * keeps what the containers said; returns the file, or null when there is no artifacts directory.
 */
export async function saveProjectArtifacts(project: string): Promise<string | null> {
  const dir = process.env.DUCK_TEST_ARTIFACTS;
  if (!dir) return null;
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${project}.log`);
  await writeFile(file, await describeProject(project, 500));
  return file;
}
