// The facts decideAgentUpdate (core/agent-target) needs, gathered from the node: the accepted
// commit's group and the target's agents/<version>/agent.yaml, the overlay, the clock and zone, and
// the versions that failed here. Reads only: `duck self-update --check`, the daemon and the status
// report ask the same question through here.
import type { AgentUpdateStatus, OverlayFile } from '../../../schemas/index.js';
import { agentUpdateLines, agentUpdateStatus } from '../report/status.js';
import type { BuildInfo } from '../../../schemas/build-info.js';
import { buildInfo } from '../../../schemas/build-info.js';
import { toDuckError } from '../../../schemas/errors.js';
import { loadOverlay } from '../adapters/overlay-file.js';
import { readAgentReleaseIn } from '../channel/read-agent-release.js';
import type { AgentRelease } from '../core/agent-build.js';
import type { AgentUpdateDecision } from '../core/agent-target.js';
import { agentTarget, decideAgentUpdate } from '../core/agent-target.js';
import { needsCalendar } from '../core/resolve.js';
import type { AcceptedView } from './decisions.js';
import { clockRegressedAt, NO_CALENDAR, nodeZone } from './decisions.js';
import type { NodeParts } from './wiring.js';

let running: BuildInfo | null = null;

/** The build this process runs: its version and, in an artifact, its commit (read once). */
export function runningBuild(): BuildInfo {
  return (running ??= buildInfo(import.meta.url));
}

export interface AgentDecisionOptions {
  /** The running build's version (schemas/build-info). */
  readonly running: string;
  /** The daemon passes the watcher's last good overlay; one-shot commands read the file. */
  readonly overlay?: OverlayFile;
  /** `duck self-update --yes`. */
  readonly requested?: boolean;
  /** `duck self-update --retry`. */
  readonly retry?: boolean;
}

export interface AgentDecision extends AgentUpdateDecision {
  /** The target's release whenever a change is asked for and its agent.yaml is valid, so a wait can download ahead. */
  readonly release: AgentRelease | null;
}

export async function decideAgentOnNode(node: NodeParts, accepted: AcceptedView, opts: AgentDecisionOptions): Promise<AgentDecision> {
  const { config } = node;
  const overlay = opts.overlay ?? (await loadOverlay(config.overlay));
  const group = accepted.content.group;
  const groupFile = accepted.content.groupFile;
  const target = agentTarget(group, overlay);
  let release: AgentRelease | null = null;
  let error: string | null = null;
  if (target && target.version !== opts.running) {
    const askedBy = target.source === 'pin' ? { file: config.overlay, field: '/pin/agent' } : { file: groupFile, field: '/agent/version' };
    try {
      release = await readAgentReleaseIn(accepted.tree, target.version, askedBy);
    } catch (err) {
      error = toDuckError(err).message;
    }
  }
  const now = node.clock();
  const state = node.state.read();
  const calendar = needsCalendar(group, overlay) ? (await import('../core/windows.js')).CALENDAR : NO_CALENDAR;
  const decision = decideAgentUpdate({
    running: opts.running,
    group,
    groupFile,
    overlay,
    overlayFile: config.overlay,
    now,
    get zone() {
      return nodeZone();
    },
    calendar,
    clockRegressed: clockRegressedAt(state, now),
    failed: state.agentBuild.failed,
    release: release ? { digest: release.digest } : error !== null ? { error } : null,
    requested: opts.requested ?? false,
    retry: opts.retry ?? false,
  });
  return { ...decision, release };
}

/** `duck status`'s agent block and its lines: the running build, what is asked of it and why it waits, the failed versions. */
export async function agentStatusOnNode(node: NodeParts, accepted: AcceptedView | null): Promise<{ status: AgentUpdateStatus; lines: string[] }> {
  const running = runningBuild().version;
  const decision = accepted ? await decideAgentOnNode(node, accepted, { running }) : null;
  const status = agentUpdateStatus(running, decision, node.state.read().agentBuild.failed);
  return { status, lines: agentUpdateLines(status) };
}
