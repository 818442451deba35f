import { dirname } from 'node:path';
import { loadOverlay } from '../adapters/overlay-file.js';
import type { AppLayout } from '../apply/app-layout.js';
import { appLayout } from '../apply/app-layout.js';
import type { BackupRecord, BrokenBackup, PartialLeftover } from '../apply/backup-store.js';
import { composeTarget } from '../apply/compose-target.js';
import { parseCommitObject } from '../channel/commit-object.js';
import { openCommitTree } from '../channel/commit-tree.js';
import type { ComposeRuntime, ComposeTarget } from '../ports.js';
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

/**
 * Whether the last accepted commit has `releases/<app>/<version>/`, read from the local clone
 * without a fetch; null when nothing was accepted yet (so a pin cannot be checked).
 */
export async function acceptedHasRelease(node: NodeParts, app: string, version: string): Promise<boolean | null> {
  const anchor = node.state.read().channel.anchor;
  if (!anchor || !(await node.transport.objects.has(anchor.commit))) return null;
  const commit = parseCommitObject(await node.transport.objects.readCommitRaw(anchor.commit), anchor.commit);
  const tree = openCommitTree(node.transport.objects, anchor.commit, commit.tree, node.config.limits);
  try {
    return (await tree.blobId(`releases/${app}/${version}/release.yaml`)) !== null;
  } catch {
    return false;
  }
}
