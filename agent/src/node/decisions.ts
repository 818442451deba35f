import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve as resolvePath } from 'node:path';
import type { OverlayFile, ReleaseFile } from '../../../schemas/index.js';
import { DuckError, toDuckError } from '../../../schemas/errors.js';
import { loadOverlay } from '../adapters/overlay-file.js';
import { channelFreshness, CLOCK_TOLERANCE_MS } from '../channel/accept-channel.js';
import { parseCommitObject } from '../channel/commit-object.js';
import type { CommitTree } from '../channel/commit-tree.js';
import { openCommitTree } from '../channel/commit-tree.js';
import { DEPLOYED_FROM_LABEL } from '../apply/compose-target.js';
import type { DeployedCommit } from '../channel/running-floor.js';
import type { ChannelContent } from '../channel/read-release.js';
import { readChannelContent, readRelease } from '../channel/read-release.js';
import type { Plan } from '../core/change.js';
import { configHash } from '../core/config-hash.js';
import type { DesiredState, ResolveInput } from '../core/desired.js';
import { releaseKey } from '../core/desired.js';
import { appPins } from '../core/overlay-pins.js';
import { plan } from '../core/plan.js';
import { decisionsValidUntil, needsCalendar, resolve } from '../core/resolve.js';
import type { Calendar } from '../core/window-spec.js';
import { CHECK_RECORD_MS } from '../core/channel-record.js';
import type { StateSnapshot } from '../ports.js';
import type { AgentConfig } from './config.js';
import type { NodeParts } from './wiring.js';

/** An accepted commit and what the node reads of it: its group's content and its tree. */
export interface AcceptedView {
  readonly commit: string;
  readonly content: ChannelContent;
  readonly tree: CommitTree;
}

/** resolve()'s answer over one accepted commit, with the facts plan() needs beside it. */
export interface Resolved {
  readonly desired: DesiredState;
  readonly agentId: string;
  /** The node's zone, asked of ICU when read (nodeZone): only windows, a hold's end and --json need it. */
  zone(): string;
  /** Every release resolve could target, by `app@version`. */
  readonly releases: ReadonlyMap<string, ReleaseFile>;
  /** Per app, the hash of what would shape it at its desired version. */
  readonly configHashes: Readonly<Record<string, string>>;
  /** Until when the same input would resolve the same way (core/resolve.ts decisionsValidUntil). */
  readonly validUntil: Date;
  /** The clock was behind a time already seen: part of the input besides the clock. */
  readonly clockRegressed: boolean;
}

/** resolve() and plan() together, for the commands that show both. */
export interface Decisions extends Resolved {
  readonly plan: Plan;
}

/** needsCalendar() said no: resolve() reads no date in a zone, and a call here is a bug to surface. */
export const NO_CALENDAR: Calendar = {
  windowState: () => {
    throw new Error('internal: resolve() evaluated a window that needsCalendar() did not see');
  },
  holdEnd: () => {
    throw new Error("internal: resolve() read a hold's end that needsCalendar() did not see");
  },
};

/** Until the writer has made this node's id, readings use this one (no rollout bucket is real yet). */
const NO_AGENT_ID = 'unassigned';

/**
 * The node's IANA zone: windows without a zone and bare-date holds are read in it. The first
 * question loads ICU's data (about 40 ms of CPU), so the commands ask only when something needs it.
 */
export function nodeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** The agent id from the config, or the one made once and kept in the state; null before that. */
export function agentIdOf(config: AgentConfig, state: StateSnapshot): string | null {
  return config.raw.agentId ?? state.agentId;
}

/** The last accepted commit, read from the local clone: `duck status` never touches the network. */
export async function readAcceptedLocally(node: NodeParts): Promise<AcceptedView | null> {
  const anchor = node.state.read().channel.anchor;
  if (!anchor || !(await node.transport.objects.has(anchor.commit))) return null;
  const commit = parseCommitObject(await node.transport.objects.readCommitRaw(anchor.commit), anchor.commit);
  const tree = openCommitTree(node.transport.objects, anchor.commit, commit.tree, node.config.limits);
  return { commit: anchor.commit, content: await readChannelContent(tree, node.config.group), tree };
}

/**
 * Whether the accepted commit is older than its channel's freshness as of now (DESIGN §3: a
 * warning, never a refusal), read without a fetch; not stale when nothing is accepted.
 */
export function acceptedFreshness(node: NodeParts, view: AcceptedView | null): { stale: boolean; freshness: string | null } {
  const anchor = node.state.read().channel.anchor;
  const freshness = view?.content.channel.freshness ?? null;
  if (!anchor || !freshness) return { stale: false, freshness };
  return { stale: channelFreshness(freshness, new Date(anchor.committedAt), node.clock()).stale, freshness };
}

export interface DecideOptions {
  readonly upgradeNow?: ReadonlySet<string> | 'all';
  /** The daemon passes the watcher's last good overlay; one-shot commands read the file. */
  readonly overlay?: OverlayFile;
}

/** resolve() then plan(), reading only: the caller records admissions. */
export async function decide(node: NodeParts, accepted: AcceptedView, opts: DecideOptions = {}): Promise<Decisions> {
  const resolved = await resolveDesired(node, accepted, opts);
  return { ...resolved, plan: planChanges(node.state.read(), resolved) };
}

/** plan() on what the node runs now and what resolve() asked for: pure. */
export function planChanges(state: StateSnapshot, resolved: Resolved): Plan {
  return plan({ observed: state, desired: resolved.desired, releases: resolved.releases, configHashes: resolved.configHashes });
}

/**
 * Gathers the facts resolve() needs — the overlay, the releases pins name — runs it, and hashes
 * what would shape each app for plan(). Reads only.
 */
export async function resolveDesired(node: NodeParts, accepted: AcceptedView, opts: DecideOptions = {}): Promise<Resolved> {
  const now = node.clock();
  const { config } = node;
  const overlay = opts.overlay ?? (await loadOverlay(config.overlay));
  const { releases, releaseErrors } = await candidateReleases(accepted, appPins(overlay), config.overlay);
  const state = node.state.read();
  const agentId = agentIdOf(config, state) ?? NO_AGENT_ID;
  const clockRegressed = clockRegressedAt(state, now);
  // Luxon (windows.ts) loads only when a window or a hold's end is to be read in a zone.
  const calendar = needsCalendar(accepted.content.group, overlay) ? (await import('../core/windows.js')).CALENDAR : NO_CALENDAR;
  const input: ResolveInput = {
    commit: accepted.commit,
    group: accepted.content.group,
    groupFile: accepted.content.groupFile,
    releases,
    releaseErrors,
    overlay,
    overlayFile: config.overlay,
    now,
    clockRegressed,
    agentId,
    // Read only where resolve() meets a window or a hold's end (or by the JSON output).
    get zone() {
      return nodeZone();
    },
    calendar,
    node: state,
    upgradeNow: opts.upgradeNow ?? new Set<string>(),
  };
  const desired = resolve(input);
  const configHashes: Record<string, string> = {};
  for (const app of desired.apps) {
    const release = app.desired !== null ? releases.get(releaseKey(app.app, app.desired)) : undefined;
    if (release && app.desired !== null) configHashes[app.app] = await appConfigHash(overlay, dirname(config.overlay), app.app, app.desired, release);
  }
  // Decisions are checked again at least as often as an unchanged check is recorded.
  return { desired, agentId, zone: nodeZone, releases, configHashes, validUntil: decisionsValidUntil(input, desired, CHECK_RECORD_MS), clockRegressed };
}

/** The clock reads behind the newest time seen, beyond what NTP steps back (DESIGN §4.1). */
export function clockRegressedAt(state: StateSnapshot, now: Date): boolean {
  return state.newestTimeSeen !== null && now.getTime() < Date.parse(state.newestTimeSeen) - CLOCK_TOLERANCE_MS;
}

async function candidateReleases(accepted: AcceptedView, pins: Record<string, string>, overlayFile: string) {
  const releases = new Map<string, ReleaseFile>();
  const releaseErrors = new Map<string, string>();
  for (const r of Object.values(accepted.content.releases)) releases.set(releaseKey(r.app, r.version), r.release);
  for (const [app, version] of Object.entries(pins)) {
    const key = releaseKey(app, version);
    if (releases.has(key)) continue;
    try {
      releases.set(key, (await readRelease(accepted.tree, app, version, { file: overlayFile, field: `/pin/${app}` })).release);
    } catch (err) {
      releaseErrors.set(key, toDuckError(err).message);
    }
  }
  return { releases, releaseErrors };
}

/** The hash of everything that shapes an app's running state (release files, images, overlay overrides). */
export async function appConfigHash(overlay: OverlayFile, overlayDir: string, app: string, version: string, release: ReleaseFile): Promise<string> {
  const override = overlay.compose?.[app];
  const overrideFileHashes: Record<string, string> = {};
  for (const file of override?.files ?? []) {
    const path = isAbsolute(file) ? file : resolvePath(overlayDir, file);
    overrideFileHashes[file] = await readFile(path).then(
      (b) => createHash('sha256').update(b).digest('hex'),
      () => 'missing',
    );
  }
  return configHash({ version, files: release.files, images: release.images ?? [], override, overrideFileHashes });
}

const PROJECT_LABEL = 'com.docker.compose.project';
const WORKING_DIR_LABEL = 'com.docker.compose.project.working_dir';

/**
 * The commits this node's stacks were deployed from, read from their containers' labels: the floor
 * a tip must descend from when the state has no anchor (DESIGN §3). Only containers compose started
 * from this node's apps directory count (another node's or a test's stacks may share the engine).
 * No docker on the machine: nothing runs. An engine that does not answer fails the check: without
 * the floor the tip cannot be judged.
 */
export async function deployedCommits(node: NodeParts): Promise<DeployedCommit[]> {
  let rows: Array<Record<string, string>>;
  try {
    rows = await node.docker.containerLabels(DEPLOYED_FROM_LABEL, [DEPLOYED_FROM_LABEL, PROJECT_LABEL, WORKING_DIR_LABEL]);
  } catch (err) {
    const e = toDuckError(err);
    if ((e.cause as { code?: unknown } | undefined)?.code === 'ENOENT') return [];
    throw new DuckError(e.code, `the state has no accepted commit, and what this node runs cannot be read from Docker to check the channel tip against: ${e.message}`, e.data, 'transient', { cause: err });
  }
  const appsDir = node.config.apply.appsDir.replace(/\/+$/, '');
  const found = new Map<string, DeployedCommit>();
  for (const row of rows) {
    const commit = row[DEPLOYED_FROM_LABEL] ?? '';
    if (!/^[0-9a-f]{40}$/.test(commit) || !(row[WORKING_DIR_LABEL] ?? '').startsWith(`${appsDir}/`)) continue;
    const app = (row[PROJECT_LABEL] ?? '').replace(/^duck-/, '');
    found.set(`${app}@${commit}`, { app, commit });
  }
  return [...found.values()];
}
