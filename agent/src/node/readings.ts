import { dirname } from 'node:path';
import { loadOverlay } from '../adapters/overlay-file.js';
import { openStateStore } from '../adapters/state-lowdb.js';
import type { AppLayout } from '../apply/app-layout.js';
import { appLayout } from '../apply/app-layout.js';
import type { BackupRecord, BrokenBackup, PartialLeftover } from '../apply/backup-store.js';
import { composeTarget } from '../apply/compose-target.js';
import { parseCommitObject } from '../channel/commit-object.js';
import { openCommitTree } from '../channel/commit-tree.js';
import { agentReleasePath } from '../channel/read-agent-release.js';
import { AGENT_PIN } from '../core/overlay-pins.js';
import type { ComposeRuntime, ComposeTarget, StateSnapshot } from '../ports.js';
import { DuckError } from '../../../schemas/errors.js';
import { installedOrThrow } from './acts.js';
import type { NodeParts } from './wiring.js';

/**
 * What the reading commands look at (status, ps, logs, backups, pin's check): the state as the
 * writer left it, the local clone and Docker's own view. Nothing here writes or mutates.
 */

/** An installed app as `duck ps` and `duck logs` read it. */
export interface AppHandle {
  readonly app: string;
  readonly version: string;
  readonly layout: AppLayout;
  readonly target: ComposeTarget;
  /** For `ps` only: the mutating calls belong to apply/'s executors. */
  readonly runtime: ComposeRuntime;
}

export async function appHandle(node: NodeParts, app: string): Promise<AppHandle> {
  const installed = installedOrThrow(node, app);
  const overlay = await loadOverlay(node.config.overlay);
  const layout = appLayout(node.config.apply.appsDir, app);
  const target = composeTarget(layout, installed.version, overlay.compose?.[app], dirname(node.config.overlay));
  return { app, version: installed.version, layout, target, runtime: await node.runtime() };
}

/**
 * The state as the writer last wrote it, read from the file: a reader that runs for long beside
 * `duck run` (the console on a port of its own) would otherwise keep the snapshot it started with.
 */
export async function writtenState(node: NodeParts): Promise<StateSnapshot> {
  return (await openStateStore(node.config.stateDir)).read();
}

export function listBackups(node: NodeParts, app?: string): Promise<{ backups: BackupRecord[]; broken: BrokenBackup[] }> {
  return node.backups.list(app);
}

/** Backups a killed agent left unfinished (`<id>.partial`), with their size; the next writer start removes them. */
export function partialBackups(node: NodeParts): Promise<PartialLeftover[]> {
  return node.backups.leftovers();
}

export function backupRecord(node: NodeParts, id: string): Promise<BackupRecord> {
  return node.backups.get(id);
}

/** What an overlay edit names: an app and, for a pin, the version to run. */
export interface OverlayTarget {
  readonly app: string;
  readonly version?: string;
}

/**
 * An overlay edit (`duck pin`, `duck schedule`) must name what the last accepted commit has — the
 * release for a pin, the app for a schedule — or the node would wait on something the channel
 * lacks. Read from the local clone, without a fetch.
 * @returns whether it was checked: false only when nothing was accepted yet and `force` is set
 * @throws DuckError 'invalid' when the commit lacks it; 'config' when nothing was accepted yet
 */
export async function requireInAcceptedCommit(node: NodeParts, target: OverlayTarget, opts: { act: 'pin' | 'schedule'; force: boolean }): Promise<boolean> {
  const { app, version } = target;
  const agent = app === AGENT_PIN && version !== undefined;
  const what = agent ? `agent release ${version}` : version === undefined ? `app ${app}` : `release ${app} ${version}`;
  const dir = agent ? agentReleasePath(version) : version === undefined ? `releases/${app}/` : `releases/${app}/${version}/`;
  const has = await acceptedHas(node, target);
  if (has === null) {
    if (opts.force) return false;
    throw new DuckError('config', `nothing accepted from the channel yet, so ${what} cannot be checked: run \`duck verify\` first (or ${opts.act} anyway with --force)`);
  }
  if (!has) {
    const commit = node.state.read().channel.anchor?.commit ?? '';
    const done = opts.act === 'pin' ? 'pinned' : 'scheduled';
    throw new DuckError('invalid', `the last accepted commit ${commit.slice(0, 12)} has no ${what} (${dir}); nothing was ${done}`, { commit, app, ...(version === undefined ? {} : { version }) });
  }
  return true;
}

/** Whether the last accepted commit has the target; null when nothing was accepted yet. */
async function acceptedHas(node: NodeParts, { app, version }: OverlayTarget): Promise<boolean | null> {
  const anchor = node.state.read().channel.anchor;
  if (!anchor || !(await node.transport.objects.has(anchor.commit))) return null;
  const commit = parseCommitObject(await node.transport.objects.readCommitRaw(anchor.commit), anchor.commit);
  const tree = openCommitTree(node.transport.objects, anchor.commit, commit.tree, node.config.limits);
  try {
    // An app the group runs has its releases here too, so the directory answers for both.
    if (version === undefined) return (await tree.listFiles(`releases/${app}`, 0)).length > 0;
    // pin.agent names the agent's own build, published as agents/<version>/agent.yaml.
    if (app === AGENT_PIN) return (await tree.blobId(agentReleasePath(version))) !== null;
    return (await tree.blobId(`releases/${app}/${version}/release.yaml`)) !== null;
  } catch {
    return false;
  }
}
