import { randomUUID } from 'node:crypto';
import type { OverlayFile, ReleaseFile } from '../../schemas/index.js';
import type { Agent } from './agent.js';
import { loadOverlay } from './adapters/overlay-file.js';
import { CLOCK_TOLERANCE_MS } from './channel/accept-channel.js';
import { parseCommitObject } from './channel/commit-object.js';
import type { CommitTree } from './channel/commit-tree.js';
import { openCommitTree } from './channel/commit-tree.js';
import type { ChannelContent } from './channel/read-release.js';
import { readChannelContent, readRelease } from './channel/read-release.js';
import type { DesiredState } from './core/desired.js';
import { releaseKey } from './core/desired.js';
import { toDuckError } from '../../schemas/errors.js';
import type { ObservedState } from './core/plan.js';
import { plan } from './core/plan.js';
import { resolve } from './core/resolve.js';
import type { Plan } from './core/steps.js';

export interface AcceptedView {
  readonly commit: string;
  readonly content: ChannelContent;
  readonly tree: CommitTree;
}

export interface DesiredAndPlan {
  readonly desired: DesiredState;
  readonly plan: Plan;
  readonly agentId: string;
  readonly zone: string;
}

/** The node's IANA zone: windows without a zone and bare-date holds are read in it. */
export function nodeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** The agent id from the config, or a UUID made once and kept in the state. */
export async function ensureAgentId(agent: Agent): Promise<string> {
  const configured = agent.config.raw.agentId;
  if (configured) return configured;
  const known = agent.state.read().agentId;
  if (known) return known;
  const id = randomUUID();
  await agent.state.update((s) => {
    s.agentId = id;
  });
  return id;
}

/** The last accepted commit, read from the local clone: `duck status` never touches the network. */
export async function readAcceptedLocally(agent: Agent): Promise<AcceptedView | null> {
  const anchor = agent.state.read().channel.anchor;
  if (!anchor || !(await agent.transport.objects.has(anchor.commit))) return null;
  const commit = parseCommitObject(await agent.transport.objects.readCommitRaw(anchor.commit), anchor.commit);
  const tree = openCommitTree(agent.transport.objects, anchor.commit, commit.tree, agent.config.limits.maxFileBytes);
  return { commit: anchor.commit, content: await readChannelContent(tree, agent.config.group), tree };
}

/** Gathers the facts resolve() and plan() need, then runs them: no side effect but the agent id. */
export async function desiredAndPlan(
  agent: Agent,
  accepted: AcceptedView,
  opts: { upgradeNow?: ReadonlySet<string> | 'all'; overlay?: OverlayFile } = {},
): Promise<DesiredAndPlan> {
  const now = agent.clock();
  // The loop passes the watcher's last good overlay; one-shot commands read the file.
  const overlay = opts.overlay ?? (await loadOverlay(agent.config.overlay));
  const { releases, releaseErrors } = await candidateReleases(accepted, overlay.pin ?? {}, agent.config.overlay);
  const state = agent.state.read();
  const agentId = await ensureAgentId(agent);
  const zone = nodeZone();
  const desired = resolve({
    commit: accepted.commit,
    group: accepted.content.group,
    groupFile: accepted.content.groupFile,
    releases,
    releaseErrors,
    overlay,
    overlayFile: agent.config.overlay,
    now,
    clockRegressed: state.newestTimeSeen !== null && now.getTime() < Date.parse(state.newestTimeSeen) - CLOCK_TOLERANCE_MS,
    agentId,
    zone,
    node: state,
    upgradeNow: opts.upgradeNow ?? new Set(),
  });
  const observed: ObservedState = { apps: state.apps };
  return { desired, plan: plan(observed, desired), agentId, zone };
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
