/**
 * ComposeRuntime over the compose CLI, through the `docker-compose` library (DESIGN §1): Compose v2
 * (`docker compose`) when it answers, else the v1 standalone `docker-compose`. `ps` reads Docker
 * itself (`docker inspect`), because the two flavours print `ps` differently and neither prints health
 * in a form worth parsing; compose labels every container it makes, so the label is the one truth.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { down, execCompose, stop, upAll, version as composeVersion } from 'docker-compose';
import type { IDockerComposeExecutableOptions, IDockerComposeOptions } from 'docker-compose';
import { DuckError } from '../../../schemas/errors.js';
import type {
  ComposeFlavor,
  ComposeInfo,
  ComposeRuntime,
  ComposeTarget,
  ContainerHealth,
  ContainerState,
  ServiceStatus,
  StartedBy,
} from '../ports.js';
import { PROJECT_LABEL } from '../core/compose-model.js';
import { CREATE_ARGS, planStart, startArgs, startServices } from '../core/compose-start.js';
import { engineUnreachable, saysEngineUnreachable } from '../core/engine-fault.js';
import { SERVICE_LABEL, serviceRows } from './compose-rows.js';
import { createEngineApi, findEngineRoute } from './engine-api.js';
import type { EngineApi } from './engine-api.js';

const run = promisify(execFile);

/** The names both flavours accept as a project name (v1 silently rewrites anything else). */
const PROJECT_NAME = /^[a-z0-9][a-z0-9_-]*$/;
const STDERR_TAIL = 2000;

export interface DetectOptions {
  /** Use only this flavour (an operator's choice in the agent config); default: v2, then v1. */
  flavor?: ComposeFlavor;
  /** The docker and docker-compose executables; default from PATH. */
  docker?: string;
  dockerCompose?: string;
}

/** Finds the compose to drive, preferring v2. Throws DuckError `config` when none answers. */
export async function detectCompose(options: DetectOptions = {}): Promise<ComposeInfo> {
  const all: { flavor: ComposeFlavor; command: string[] }[] = [
    { flavor: 'v2', command: [options.docker ?? 'docker', 'compose'] },
    { flavor: 'v1', command: [options.dockerCompose ?? 'docker-compose'] },
  ];
  const candidates = all.filter((c) => options.flavor === undefined || c.flavor === options.flavor);
  const failures: string[] = [];
  for (const candidate of candidates) {
    try {
      const result = await composeVersion({ executable: executableOf(candidate.command), env: process.env });
      const version = result.data.version.replace(/^v/, '');
      const major = Number.parseInt(version, 10);
      if (!Number.isInteger(major)) throw new Error(`unrecognised version "${result.data.version}"`);
      // A v2 binary installed as `docker-compose` is still v2: the version decides, not the name.
      return { flavor: major >= 2 ? 'v2' : 'v1', version, command: candidate.command };
    } catch (err) {
      const firstLine = describeFailure(err).split('\n')[0];
      failures.push(`\`${candidate.command.join(' ')} version\`: ${firstLine}`);
    }
  }
  throw new DuckError(
    'config',
    `no Docker Compose found (${failures.join('; ')}); install the Compose v2 plugin or docker-compose v1`,
    { tried: candidates.map((c) => c.command.join(' ')) },
  );
}

/** A ComposeRuntime for the compose `info` names (from detectCompose). */
export function createComposeCli(info: ComposeInfo, options: { docker?: string; env?: NodeJS.ProcessEnv } = {}): ComposeRuntime {
  // `env`: what the docker CLI runs with (default the agent's own); it also decides whether the engine's socket is the same engine.
  const docker = { bin: options.docker ?? 'docker', env: options.env ?? process.env };
  const executable = executableOf(info.command);
  // The Engine API over the socket the docker CLI would use, decided once; null: the CLI (another host, a context).
  let engine: Promise<EngineApi | null> | undefined;
  const engineApi = (): Promise<EngineApi | null> =>
    (engine ??= findEngineRoute(docker.env).then((route) => ('socketPath' in route ? createEngineApi(route.socketPath) : null)));

  const composeOptions = (project: string, target: ComposeTarget): IDockerComposeOptions => {
    assertProjectName(project);
    if (target.files.length === 0) {
      throw new DuckError('config', `compose project ${project} has no compose files`, { field: 'files' });
    }
    return {
      executable,
      cwd: target.cwd,
      config: target.files,
      composeOptions: [
        ['--project-name', project],
        ['--project-directory', target.cwd],
      ],
      // The library hands `env` to spawn as the whole environment: without the agent's own, compose
      // would lose PATH and DOCKER_HOST.
      env: { ...process.env, ...target.env },
    };
  };

  const invoke = async (what: string, project: string, call: () => Promise<unknown>): Promise<void> => {
    try {
      await call();
    } catch (err) {
      throw composeError(`${info.command.join(' ')} ${what}`, project, err);
    }
  };

  const up = (project: string, target: ComposeTarget): Promise<void> => {
    const opts = composeOptions(project, target);
    return invoke('up', project, () => upAll({ ...opts, commandOptions: ['--remove-orphans'] }));
  };

  return {
    version: async () => info,
    up,
    create: (project, target) => {
      const opts = composeOptions(project, target);
      const [command, ...args] = CREATE_ARGS;
      return invoke(CREATE_ARGS.join(' '), project, () => execCompose(command!, args, opts));
    },
    start: async (project, target): Promise<StartedBy> => {
      assertProjectName(project);
      const texts = await composeTexts(target);
      const services = texts === null ? null : startServices(texts);
      // In the stopped window: the socket's list and starts take milliseconds, each CLI process a few hundred.
      const api = await engineApi();
      const containers = api === null ? await listProject(docker, project) : await api.listProject(project);
      const plan = planStart(services, containers, { flavor: info.flavor, workingDir: resolve(target.cwd) });
      if ('composeUp' in plan) {
        await up(project, target);
        return { by: 'compose', reason: plan.composeUp };
      }
      // One after the other, in the order given (the engine's start, no compose start-up).
      const startedAt = performance.now();
      if (api === null) await dockerLines(docker, startArgs(plan.ids));
      else await api.start(plan.ids);
      return { by: 'engine', containers: plan.ids.length, startMs: Math.round(performance.now() - startedAt) };
    },
    stop: (project, target) => {
      const opts = composeOptions(project, target);
      return invoke('stop', project, () => stop(opts));
    },
    down: (project, target) => {
      const opts = composeOptions(project, target);
      // Never `-v`: volumes are kept (DESIGN §4.3).
      return invoke('down', project, () => down({ ...opts, commandOptions: ['--remove-orphans'] }));
    },
    ps: async (project) => {
      assertProjectName(project);
      return listProject(docker, project);
    },
  };
}

/** The target's compose files as text; null when one cannot be read (compose's `up` reports it). */
async function composeTexts(target: ComposeTarget): Promise<string[] | null> {
  const texts = await Promise.all(target.files.map((f) => readFile(isAbsolute(f) ? f : resolve(target.cwd, f), 'utf8').catch(() => null)));
  return texts.every((t): t is string => t !== null) ? texts : null;
}

/** ['docker-compose'] runs standalone; ['docker', ...globalOptions, 'compose'] runs the plugin (the library adds 'compose'). */
function executableOf(command: string[]): IDockerComposeExecutableOptions {
  const [bin = 'docker', ...rest] = command;
  if (rest.length === 0) return { standalone: true, executablePath: bin };
  return { executablePath: bin, options: rest.slice(0, -1) };
}

function assertProjectName(project: string): void {
  if (!PROJECT_NAME.test(project)) {
    throw new DuckError(
      'config',
      `compose project name "${project}" must be lower-case letters, digits, "-" and "_", starting with a letter or digit`,
      { field: 'project' },
    );
  }
}

async function listProject(docker: DockerCli, project: string): Promise<ServiceStatus[]> {
  const ids = await dockerLines(docker, ['ps', '-a', '-q', '--no-trunc', '--filter', `label=${PROJECT_LABEL}=${project}`]);
  if (ids.length === 0) return [];
  let stdout: string;
  try {
    ({ stdout } = await run(docker.bin, ['inspect', ...ids], { maxBuffer: 64 * 1024 * 1024, env: docker.env }));
  } catch (err) {
    // A container removed between `ps` and `inspect` fails the call but the others are printed.
    const partial = (err as { stdout?: string }).stdout ?? '';
    if (!partial.trim().startsWith('[')) throw dockerError(['inspect'], err);
    stdout = partial;
  }
  return parseInspect(stdout);
}

/** `docker inspect` JSON to ServiceStatus rows: compose service containers only, sorted. */
export function parseInspect(json: string): ServiceStatus[] {
  const containers = JSON.parse(json) as InspectedContainer[];
  return serviceRows(
    containers.map((c): ServiceStatus => {
      const labels = c.Config?.Labels ?? {};
      return {
        service: labels[SERVICE_LABEL] ?? '',
        container: (c.Name ?? '').replace(/^\//, ''),
        containerId: c.Id,
        image: c.Config?.Image ?? '',
        imageId: c.Image ?? '',
        state: (c.State?.Status ?? 'dead') as ContainerState,
        health: (c.State?.Health?.Status ?? 'none') as ContainerHealth,
        exitCode: c.State?.ExitCode ?? 0,
        labels,
      };
    }),
  );
}

interface InspectedContainer {
  Id: string;
  Name?: string;
  Image?: string;
  Config?: { Image?: string; Labels?: Record<string, string> | null };
  State?: { Status?: string; ExitCode?: number; Health?: { Status?: string } };
}

/** The docker executable and the environment it runs with. */
interface DockerCli {
  bin: string;
  env: NodeJS.ProcessEnv;
}

async function dockerLines(docker: DockerCli, args: string[]): Promise<string[]> {
  try {
    const { stdout } = await run(docker.bin, args, { maxBuffer: 16 * 1024 * 1024, env: docker.env });
    return stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  } catch (err) {
    throw dockerError(args.slice(0, 1), err);
  }
}

function dockerError(args: string[], err: unknown): DuckError {
  const output = outputOf(err);
  if (output !== null && saysEngineUnreachable(output)) return engineUnreachable(`docker ${args.join(' ')}`, output, err);
  return new DuckError('io', `docker ${args.join(' ')} failed: ${describeFailure(err)}`, {}, 'transient', { cause: err });
}

function composeError(command: string, project: string, err: unknown): DuckError {
  const exitCode = isComposeResult(err) ? err.exitCode : undefined;
  const output = outputOf(err);
  if (output !== null && saysEngineUnreachable(output)) return engineUnreachable(`${command} (project ${project})`, output, err);
  return new DuckError(
    'io',
    `${command} failed for project ${project}: ${describeFailure(err)}`,
    { project, ...(exitCode === undefined ? {} : { exitCode }) },
    'transient',
    { cause: err },
  );
}

/** The library rejects with its result object (exit code and output), not an Error, on a non-zero exit. */
function isComposeResult(err: unknown): err is { exitCode: number | null; err: string; out: string } {
  return typeof err === 'object' && err !== null && 'exitCode' in err && 'err' in err;
}

/** What the CLI printed when it ran and failed; null when it did not run (not installed, killed). */
function outputOf(err: unknown): string | null {
  if (isComposeResult(err)) return err.exitCode === null ? null : `${err.out}\n${err.err}`;
  const { code, stderr } = (err ?? {}) as { code?: unknown; stderr?: unknown };
  return typeof code === 'number' && typeof stderr === 'string' ? stderr : null;
}

function describeFailure(err: unknown): string {
  if (isComposeResult(err)) {
    const output = (err.err.trim() || err.out.trim()).slice(-STDERR_TAIL);
    return `exit ${err.exitCode ?? 'signal'}${output ? `: ${output}` : ''}`;
  }
  if (typeof err === 'object' && err !== null) {
    const { code, stderr } = err as { code?: unknown; stderr?: unknown };
    if (code === 'ENOENT') return 'not installed';
    if (typeof stderr === 'string' && stderr.trim()) return stderr.trim().slice(-STDERR_TAIL);
  }
  return err instanceof Error ? err.message : String(err);
}
