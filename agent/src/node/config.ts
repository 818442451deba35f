import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { AgentConfigFile, Limits } from '../../../schemas/index.js';
import { parseYaml } from '../../../schemas/index.js';
import type { ApplySettings } from '../apply/apply-env.js';
import { parseDuration } from '../core/duration.js';
import type { FetchDeadlines } from '../core/limits.js';
import { DEFAULT_LIMITS, fetchDeadlinesOf } from '../core/limits.js';
import { DEFAULT_START_SPREAD_MS } from '../core/poll-schedule.js';
import { asConfigError, DuckError } from '../../../schemas/errors.js';
import type { TrustedKey } from '../channel/signature.js';
import { readTrustedKey } from '../channel/signature.js';

export const DEFAULT_CONFIG_PATH = '/etc/duck/agent.yaml';

export interface AgentConfig {
  readonly file: string;
  readonly channel: {
    readonly url: string;
    readonly branch: string;
    readonly intervalMs: number;
    readonly token: string | undefined;
    /** The tip pointer's URL (agent.yaml channel.pointer), or null. */
    readonly pointer: string | null;
    /** Tried in order after url; each with its own token, or none. */
    readonly mirrors: readonly ChannelSourceUrl[];
  };
  readonly group: string;
  readonly trustKeyFiles: readonly string[];
  readonly stateDir: string;
  readonly overlay: string;
  readonly limits: Readonly<Required<Limits>>;
  /** limits.fetchTimeout and limits.fetchIdleTimeout, parsed. */
  readonly fetchDeadlines: FetchDeadlines;
  readonly apply: ApplySettings;
  /** The telemetry controller; null when the config has no controller section (nothing is reported). */
  readonly controller: ControllerSettings | null;
  /** agent.yaml console: the loopback port `duck run` serves the console on; null: no console in the daemon. */
  readonly consolePort: number | null;
  /** The window the first fetch and report after start are spread over (agent.yaml startSpread). */
  readonly startSpreadMs: number;
  /** agent.yaml selfUpdate, with its defaults. */
  readonly selfUpdate: SelfUpdateConfig;
  readonly raw: AgentConfigFile;
}

/** One git URL of the channel and the token that goes to it alone. */
export interface ChannelSourceUrl {
  readonly url: string;
  readonly token: string | undefined;
}

export interface SelfUpdateConfig {
  readonly serviceManager: 'auto' | 'systemd' | 'detached';
  readonly buildsDir: string;
  readonly healthTimeoutMs: number;
}

export interface ControllerSettings {
  readonly url: string;
  readonly enrollToken: string | undefined;
  /** Read only when the agent must enroll: an operator may remove it once the node is enrolled. */
  readonly enrollTokenFile: string | undefined;
  readonly intervalMs: number;
  readonly outboxLimit: number;
}

export const DEFAULT_OUTBOX_LIMIT = 10_000;

// A mirror's token is its own: the primary's never goes to another host.
async function mirrorsOf(mirrors: NonNullable<AgentConfigFile['channel']['mirrors']>, base: string): Promise<ChannelSourceUrl[]> {
  return Promise.all(
    mirrors.map(async (m, i) => {
      if (typeof m === 'string') return { url: m, token: undefined };
      const token = m.tokenFile ? (await readText(resolve(base, m.tokenFile), `channel.mirrors[${i}].tokenFile`)).trim() : undefined;
      return { url: m.url, token };
    }),
  );
}

/** --config beats DUCK_CONFIG beats the default, as operators expect from other daemons. */
export function configPath(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return resolve(flag ?? env.DUCK_CONFIG ?? DEFAULT_CONFIG_PATH);
}

export async function loadAgentConfig(file: string): Promise<AgentConfig> {
  const text = await readText(file, 'the agent config (run `duck init` to write one, or pass --config)');
  const raw = asConfigError(() => parseYaml('agent-config', text, file));
  const base = dirname(file);
  const stateDir = resolve(base, raw.stateDir ?? '/var/lib/duck');
  const token = raw.channel.tokenFile
    ? (await readText(resolve(base, raw.channel.tokenFile), 'channel.tokenFile')).trim()
    : raw.channel.token;
  return {
    file,
    channel: {
      url: raw.channel.url,
      branch: raw.channel.branch ?? 'main',
      intervalMs: parseDuration(raw.channel.interval ?? '60s', { file, field: '/channel/interval' }),
      token,
      pointer: raw.channel.pointer ?? null,
      mirrors: await mirrorsOf(raw.channel.mirrors ?? [], base),
    },
    group: raw.group,
    trustKeyFiles: raw.trust.keys.map((k) => resolve(base, k)),
    stateDir,
    overlay: resolve(base, raw.overlay ?? '/etc/duck/overlay.yaml'),
    limits: { ...DEFAULT_LIMITS, ...raw.limits },
    fetchDeadlines: fetchDeadlinesOf(raw.limits ?? {}, file),
    apply: {
      appsDir: resolve(base, raw.apply?.appsDir ?? join(stateDir, 'apps')),
      backupsDir: resolve(base, raw.apply?.backupsDir ?? join(stateDir, 'backups')),
      keepBackups: raw.apply?.keepBackups ?? 3,
      keepReleases: raw.apply?.keepReleases ?? 2,
      maxLockDeferMs: parseDuration(raw.apply?.maxLockDefer ?? '1h', { file, field: '/apply/maxLockDefer' }),
      minFreeBytes: raw.apply?.minFreeBytes ?? 256 * 1024 * 1024,
      engineWaitMs: parseDuration(raw.apply?.engineWait ?? '2m', { file, field: '/apply/engineWait' }),
    },
    controller: raw.controller ? controllerSettings(raw.controller, file) : null,
    consolePort: raw.console?.port ?? null,
    startSpreadMs: raw.startSpread === undefined ? DEFAULT_START_SPREAD_MS : parseDuration(raw.startSpread, { file, field: '/startSpread' }),
    selfUpdate: {
      serviceManager: raw.selfUpdate?.serviceManager ?? 'auto',
      buildsDir: resolve(base, raw.selfUpdate?.buildsDir ?? '/usr/lib/duck'),
      healthTimeoutMs: parseDuration(raw.selfUpdate?.healthTimeout ?? '5m', { file, field: '/selfUpdate/healthTimeout' }),
    },
    raw,
  };
}

function controllerSettings(c: NonNullable<AgentConfigFile['controller']>, file: string): ControllerSettings {
  return {
    // A trailing slash would double in `${url}/api/v1/...`.
    url: c.url.replace(/\/+$/, ''),
    enrollToken: c.enrollToken,
    enrollTokenFile: c.enrollTokenFile ? resolve(dirname(file), c.enrollTokenFile) : undefined,
    intervalMs: parseDuration(c.interval ?? '1m', { file, field: '/controller/interval' }),
    outboxLimit: c.outboxLimit ?? DEFAULT_OUTBOX_LIMIT,
  };
}

/** The agent's root of trust: always trusted, whatever the channel says. */
export async function loadAgentKeys(config: AgentConfig): Promise<TrustedKey[]> {
  const keys: TrustedKey[] = [];
  for (const [index, file] of config.trustKeyFiles.entries()) {
    const text = await readText(file, `trust key /trust/keys/${index} of ${config.file}`);
    try {
      // An OpenPGP key or an OpenSSH `.pub` line, told apart by content.
      keys.push(await readTrustedKey(text, file, basename(file).replace(/\.(asc|pgp|gpg|pub)$/, ''), 'agent'));
    } catch (err) {
      throw new DuckError('config', `${config.file}: /trust/keys/${index}: ${(err as Error).message}`, { file: config.file, field: `/trust/keys/${index}` });
    }
  }
  return keys;
}

/** The fleet enrollment token, from the config or its file; a config error naming the field when there is none. */
export async function readEnrollToken(config: AgentConfig): Promise<string> {
  const c = config.controller;
  if (c?.enrollTokenFile) return (await readText(c.enrollTokenFile, 'controller.enrollTokenFile')).trim();
  if (c?.enrollToken) return c.enrollToken;
  throw new DuckError('config', `${config.file}: /controller: no enrollToken or enrollTokenFile to enroll this agent with`, { file: config.file, field: '/controller/enrollToken' });
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'not found' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new DuckError('config', `${file}: ${why} — ${what}`, { file });
  }
}
