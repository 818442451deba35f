/**
 * The few docker CLI calls the agent makes outside compose: images (inspect, pull, load, tag,
 * remove) and volumes (inspect). execFile, never a shell: refs and paths come from a release and
 * must not be interpreted. Nothing here forces anything: an image still used by a container stays.
 */
import { DuckError } from '../../../schemas/errors.js';
import { engineUnreachable, saysEngineUnreachable } from '../core/engine-fault.js';
import type { DockerEngine, LoadedImages } from '../ports.js';

// node:child_process loads with the first docker call: a command that never asks the engine
// (duck status) does not pay for it.
async function run(file: string, args: readonly string[], opts: { maxBuffer: number; signal?: AbortSignal | undefined }): Promise<{ stdout: string }> {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    execFile(file, args, { ...opts, encoding: 'utf8' }, (err, stdout, stderr) => (err ? reject(Object.assign(err, { stdout, stderr })) : resolve({ stdout })));
  });
}

const STDERR_TAIL = 2000;
/** Pulls and loads move whole images; inspect and tag answer at once. */
const LONG_BUFFER = 64 * 1024 * 1024;
const NO_SUCH_IMAGE = /no such image|no such object/i;
const NO_SUCH_VOLUME = /no such volume/i;

export interface DockerCliOptions {
  /** The docker executable; default from PATH. */
  docker?: string;
}

export function createDockerCli(options: DockerCliOptions = {}): DockerEngine {
  const docker = options.docker ?? 'docker';

  const call = async (args: string[], opts: { signal?: AbortSignal; maxBuffer?: number } = {}): Promise<string> => {
    try {
      const { stdout } = await run(docker, args, { maxBuffer: opts.maxBuffer ?? 16 * 1024 * 1024, signal: opts.signal });
      return stdout;
    } catch (err) {
      throw dockerError(docker, args, err);
    }
  };

  /** Runs an inspect; a "no such …" answer is null, any other failure (engine down) an error. */
  const inspect = async (args: string[], missing: RegExp): Promise<unknown[] | null> => {
    try {
      const { stdout } = await run(docker, args, { maxBuffer: 16 * 1024 * 1024 });
      return JSON.parse(stdout) as unknown[];
    } catch (err) {
      if (missing.test(stderrOf(err))) return null;
      throw dockerError(docker, args, err);
    }
  };

  return {
    containerLabels: async (label, names) => {
      // `{{.Label "x"}}` prints one label's value as it is; .Labels joins them with commas.
      const format = names.map((name) => `{{.Label ${JSON.stringify(name)}}}`).join('\t');
      const stdout = await call(['ps', '--all', '--no-trunc', '--filter', `label=${label}`, '--format', format]);
      return stdout
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => Object.fromEntries(line.split('\t').map((value, i) => [names[i]!, value])));
    },
    imageInspect: async (ref) => {
      const found = await inspect(['image', 'inspect', '--', ref], NO_SUCH_IMAGE);
      const image = found?.[0] as { Id?: string; RepoTags?: string[] | null; RepoDigests?: string[] | null } | undefined;
      if (!image?.Id) return null;
      return { id: image.Id, repoTags: image.RepoTags ?? [], repoDigests: image.RepoDigests ?? [] };
    },
    pull: async (ref, opts = {}) => {
      await call(['pull', '--quiet', '--', ref], { signal: opts.signal, maxBuffer: LONG_BUFFER });
    },
    load: async (file, opts = {}) => {
      const stdout = await call(['load', '--quiet', '--input', file], { signal: opts.signal, maxBuffer: LONG_BUFFER });
      return parseLoadOutput(stdout);
    },
    tag: async (source, target) => {
      await call(['tag', '--', source, target]);
    },
    removeImage: async (ref) => {
      await call(['image', 'rm', '--', ref]);
    },
    volumeInspect: async (name) => {
      const found = await inspect(['volume', 'inspect', '--', name], NO_SUCH_VOLUME);
      const volume = found?.[0] as { Name?: string; Mountpoint?: string } | undefined;
      if (!volume?.Name || !volume.Mountpoint) return null;
      return { name: volume.Name, mountpoint: volume.Mountpoint };
    },
    projectVolumes: async (project) => {
      const stdout = await call(['volume', 'ls', '--quiet', '--filter', `label=com.docker.compose.project=${project}`]);
      return stdout.split('\n').map((l) => l.trim()).filter(Boolean).sort();
    },
    removeVolume: async (name) => {
      await call(['volume', 'rm', '--', name]);
    },
    version: async () => {
      const stdout = await call(['version', '--format', '{{json .}}']);
      const parsed = JSON.parse(stdout) as { Client?: { Version?: string }; Server?: { Version?: string } | null };
      return { client: parsed.Client?.Version ?? '', server: parsed.Server?.Version ?? '' };
    },
  };
}

/**
 * `docker load` prints "Loaded image: repo:tag" for every name the archive carries and
 * "Loaded image ID: sha256:…" for an image saved by id (no name).
 */
export function parseLoadOutput(stdout: string): LoadedImages {
  const refs: string[] = [];
  const ids: string[] = [];
  for (const line of stdout.split('\n')) {
    const id = /^Loaded image ID:\s*(\S+)\s*$/.exec(line.trim());
    if (id?.[1]) {
      ids.push(id[1]);
      continue;
    }
    const ref = /^Loaded image:\s*(\S+)\s*$/.exec(line.trim());
    if (ref?.[1]) refs.push(ref[1]);
  }
  return { refs, ids };
}

function stderrOf(err: unknown): string {
  const stderr = (err as { stderr?: unknown } | null)?.stderr;
  return typeof stderr === 'string' ? stderr : '';
}

function dockerError(docker: string, args: string[], err: unknown): DuckError {
  const command = `${docker} ${args.filter((a) => a !== '--').join(' ')}`;
  const { code, killed, signal } = (err ?? {}) as { code?: unknown; killed?: boolean; signal?: unknown };
  if (typeof code === 'number' && saysEngineUnreachable(stderrOf(err))) return engineUnreachable(command, stderrOf(err), err);
  let why: string;
  if (code === 'ENOENT') why = `${docker} is not installed`;
  else if (code === 'ABORT_ERR') why = 'aborted';
  else why = stderrOf(err).trim().slice(-STDERR_TAIL) || (killed ? `killed by ${String(signal)}` : (err as Error).message);
  return new DuckError('docker', `\`${command}\` failed: ${why}`, { command, ...(typeof code === 'number' ? { exitCode: code } : {}) }, undefined, {
    cause: err,
  });
}
