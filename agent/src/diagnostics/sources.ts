// What a diagnostics bundle gathers from the node (DESIGN §4.8). Each source yields files or says
// why it is missing; nothing here fails the bundle, and nothing here is sent anywhere.
import { execFile } from 'node:child_process';
import { readFile, statfs } from 'node:fs/promises';
import { release, type, version as osVersion } from 'node:os';
import { parse, stringify } from 'yaml';
import { HISTORY_LIMIT } from '../core/agent-state.js';
import { PROJECT_LABEL } from '../core/compose-model.js';
import type { StateSnapshot } from '../ports.js';
import { redactValue } from './redact.js';

/** What the bundle is made of, as the node's wiring knows it. */
export interface DiagnosticsInput {
  /** The agent config and the overlay: copied with their secrets redacted. */
  readonly configFile: string;
  readonly overlayFile: string;
  /** Secret values the config points at (tokens), never copied and cut out of every text. */
  readonly secrets: readonly string[];
  /** Files holding one secret each (an enrollment token file): read only to cut the secret out. */
  readonly secretFiles: readonly string[];
  readonly state: StateSnapshot;
  /** The directories whose free space matters (state, apps, backups). */
  readonly dirs: readonly string[];
  /** Each installed app's compose project. */
  readonly projects: ReadonlyArray<{ readonly app: string; readonly project: string }>;
  composeVersion(): Promise<string | null>;
  duckVersion(): Promise<string>;
}

/** A file for the bundle, or why it could not be made. */
export type Gathered = { readonly path: string; readonly text: string } | { readonly path: string; readonly missing: string };

export const HISTORY_IN_BUNDLE = Math.min(500, HISTORY_LIMIT);
const LOG_TAIL = '1000';
const COMMAND_MS = 30_000;

/** The config and overlay, parsed and redacted, plus every secret value seen, to cut from free text. */
export async function gatherConfig(input: DiagnosticsInput): Promise<{ files: Gathered[]; secrets: string[] }> {
  const secrets: string[] = [];
  const files: Gathered[] = [];
  for (const [path, file] of [['config/agent.yaml', input.configFile], ['config/overlay.yaml', input.overlayFile]] as const) {
    const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => new Error(`${file}: ${err.code ?? err.message}`));
    if (text instanceof Error) {
      files.push({ path, missing: text.message });
      continue;
    }
    let value: unknown;
    try {
      value = parse(text);
    } catch (err) {
      // Unparseable text could hold a secret anywhere: it is not copied.
      files.push({ path, missing: `${file}: not valid YAML (${(err as Error).message.split('\n')[0]}); left out rather than risk a secret` });
      continue;
    }
    const redacted = redactValue(value);
    secrets.push(...redacted.secrets);
    files.push({ path, text: `# ${file}, secrets redacted\n${stringify(redacted.value ?? {})}` });
  }
  // Secrets kept in files the config points at: never copied, but cut out of logs.
  secrets.push(...input.secrets);
  for (const file of input.secretFiles) secrets.push(...(await readFile(file, 'utf8').then((t) => [t.trim()], () => [])));
  const token = input.state.controller?.token;
  if (token) secrets.push(token);
  return { files, secrets: secrets.filter(Boolean) };
}

/** The state without tokens, the verified-signature cache as a count, and the last history entries. */
export function gatherState(state: StateSnapshot): Gathered[] {
  const { controller, outbox, channel, history, ...rest } = state;
  const summary = {
    ...rest,
    channel: { anchor: channel.anchor, lastRefusal: channel.lastRefusal, lastCheckAt: channel.lastCheckAt, verifiedCommits: Object.keys(channel.verified).length },
    controller: controller ? { url: controller.url, agentId: controller.agentId, enrolledAt: controller.enrolledAt } : null,
    outbox: { events: outbox.events.length, dropped: outbox.dropped, oldest: outbox.events[0]?.at ?? null },
    historyEntries: history.length,
  };
  return [
    { path: 'state/summary.json', text: `${JSON.stringify(redactValue(summary).value, null, 2)}\n` },
    { path: 'state/history.json', text: `${JSON.stringify(history.slice(-HISTORY_IN_BUNDLE), null, 2)}\n` },
  ];
}

export async function gatherVersions(input: DiagnosticsInput): Promise<Gathered[]> {
  const docker = await run('docker', ['version']).catch((err: Error) => `unavailable: ${err.message}`);
  const compose = (await input.composeVersion()) ?? 'unavailable';
  const text = [`duck ${await input.duckVersion()}`, `node ${process.version}`, `compose ${compose}`, '', '$ docker version', docker].join('\n');
  return [{ path: 'versions.txt', text: `${text}\n` }];
}

export async function gatherOs(input: DiagnosticsInput): Promise<Gathered[]> {
  const uname = await run('uname', ['-a']).catch(() => `${type()} ${release()} ${osVersion()}`);
  const osRelease = await readFile('/etc/os-release', 'utf8').catch((err: NodeJS.ErrnoException) => new Error(`/etc/os-release: ${err.code ?? err.message}`));
  const disk: string[] = ['path\tfree bytes\ttotal bytes'];
  for (const dir of input.dirs) {
    const s = await statfs(dir).catch((err: NodeJS.ErrnoException) => new Error(err.code ?? err.message));
    disk.push(s instanceof Error ? `${dir}\t${s.message}` : `${dir}\t${s.bavail * s.bsize}\t${s.blocks * s.bsize}`);
  }
  return [
    { path: 'os/uname.txt', text: uname },
    osRelease instanceof Error ? { path: 'os/os-release', missing: osRelease.message } : { path: 'os/os-release', text: osRelease },
    { path: 'os/disk.txt', text: `${disk.join('\n')}\n` },
  ];
}

/**
 * `docker ps -a` of the duck projects and each installed app's container logs (the last 1000
 * lines per container, what `compose logs --tail 1000` shows, without needing the compose files).
 */
export async function gatherDocker(input: DiagnosticsInput): Promise<Gathered[]> {
  if (input.projects.length === 0) return [{ path: 'docker/ps.txt', text: '(no app installed)\n' }];
  // Docker ANDs repeated label filters, so each project is listed on its own.
  const ps: string[] = [];
  const logs: Gathered[] = [];
  for (const { app, project } of input.projects) {
    const projectFilter = ['--filter', `label=${PROJECT_LABEL}=${project}`];
    try {
      ps.push(`==> ${app}`, await run('docker', ['ps', '-a', '--no-trunc', ...projectFilter]));
    } catch (err) {
      return [{ path: 'docker/ps.txt', missing: `docker ps: ${(err as Error).message}` }];
    }
    const path = `logs/${app}.log`;
    try {
      const ids = (await run('docker', ['ps', '-aq', ...projectFilter])).split('\n').filter(Boolean);
      const parts: string[] = [];
      for (const id of ids) parts.push(`==> container ${id}`, await run('docker', ['logs', '--tail', LOG_TAIL, '--timestamps', id], { merge: true }));
      logs.push({ path, text: parts.length ? `${parts.join('\n')}\n` : '(no containers)\n' });
    } catch (err) {
      logs.push({ path, missing: `docker logs for ${app}: ${(err as Error).message}` });
    }
  }
  return [{ path: 'docker/ps.txt', text: `${ps.join('\n')}\n` }, ...logs];
}

/** The agent's own log: the systemd journal of the duck unit, when there is one. */
export async function gatherAgentLog(): Promise<Gathered[]> {
  const path = 'logs/agent.log';
  try {
    const text = await run('journalctl', ['-u', 'duck', '--no-pager', '-n', '5000', '-o', 'short-iso']);
    if (!text.trim() || /^-- No entries --\s*$/.test(text.trim())) return [{ path, missing: 'journalctl -u duck: no entries' }];
    return [{ path, text }];
  } catch (err) {
    return [{ path, missing: `journalctl -u duck: ${(err as Error).message}` }];
  }
}

/** Runs a command with a time limit; stdout (and stderr too with `merge`), or an error with why. */
function run(cmd: string, args: readonly string[], opts: { merge?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: COMMAND_MS, maxBuffer: 32 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        reject(new Error(code === 'ENOENT' ? `${cmd} not found` : (stderr.trim().split('\n')[0] ?? '') || err.message));
      } else resolve(opts.merge ? `${stdout}${stderr}` : stdout);
    });
  });
}
