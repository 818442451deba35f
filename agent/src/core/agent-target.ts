// DESIGN §4.7: whether this node should move its own agent build now, and why — pure, like
// resolve() for the apps, with the same overlay rules: a pin (`pin: { agent: … }`) names the
// version and applies at once, a hold stops everything, `approval: manual` waits for
// `duck self-update --yes`, and otherwise the change starts only inside the windows in force. A
// group's rollout and urgent flag are about its apps and play no part here.
import type { GroupFile, OverlayFile } from '../../../schemas/index.js';
import type { AgentBuildFailure } from './agent-build.js';
import type { Decision } from './desired.js';
import { holdInForce, windowsInForce } from './resolve.js';
import { agentPinOf } from './overlay-pins.js';
import type { Calendar } from './window-spec.js';

/** The agent version this node should run, and who asks for it; null when neither pin nor group names one. */
export function agentTarget(group: GroupFile, overlay: OverlayFile): { version: string; source: 'pin' | 'group' } | null {
  const pinned = agentPinOf(overlay);
  if (pinned !== null) return { version: pinned, source: 'pin' };
  return group.agent ? { version: group.agent.version, source: 'group' } : null;
}

export interface AgentUpdateInput {
  /** The running build's version. */
  readonly running: string;
  readonly group: GroupFile;
  readonly groupFile: string;
  readonly overlay: OverlayFile;
  readonly overlayFile: string;
  readonly now: Date;
  readonly zone: string;
  readonly calendar: Calendar;
  readonly clockRegressed: boolean;
  /** `agentBuild.failed`: versions that failed on this node, with the release digest they failed with. */
  readonly failed: Readonly<Record<string, AgentBuildFailure>>;
  /**
   * The target's agents/<version>/agent.yaml as read from the accepted commit: its digest, or why
   * it could not be read (missing, invalid). Irrelevant, and may be null, when there is no change.
   */
  readonly release: { readonly digest: string } | { readonly error: string } | null;
  /** `duck self-update --yes`: the operator asks now, past manual approval and the windows (never a hold). */
  readonly requested?: boolean;
  /** `duck self-update --retry`: a version that failed here is tried again. */
  readonly retry?: boolean;
}

export interface AgentUpdateDecision {
  readonly decision: Decision;
  /** The version asked for (pin or group); null when none is. */
  readonly target: string | null;
  readonly reason: string;
  /** When a wait may end by itself (a window opens, a hold ends); null otherwise. */
  readonly until: string | null;
}

export function decideAgentUpdate(input: AgentUpdateInput): AgentUpdateDecision {
  const { running, groupFile, overlayFile } = input;
  const target = agentTarget(input.group, input.overlay);
  const none = (reason: string): AgentUpdateDecision => ({ decision: 'none', target: target?.version ?? null, reason, until: null });
  const wait = (reason: string, until: Date | string | null = null): AgentUpdateDecision => ({
    decision: 'wait',
    target: target?.version ?? null,
    reason,
    until: until instanceof Date ? until.toISOString() : until,
  });
  const apply = (reason: string): AgentUpdateDecision => ({ decision: 'apply', target: target!.version, reason, until: null });

  if (!target) return none(`no agent version in ${groupFile} (agent: { version }): staying on ${running}`);
  const asked = target.source === 'pin' ? `pinned in ${overlayFile}` : `as ${groupFile} asks`;
  if (target.version === running) return none(`running agent ${running} ${asked}`);

  const change = `agent ${running} -> ${target.version}`;
  const release = input.release;
  if (!release || 'error' in release) {
    return wait(`${change} ${asked}, but its release cannot be used: ${release ? release.error : 'not read'}; staying on ${running}`);
  }
  const hold = holdInForce(input);
  if (hold) return wait(`held: ${hold.reason}${hold.until ? ` (until ${hold.until})` : ''}; not moving ${change}`, hold.until);

  const failed = input.failed[target.version];
  let republished = '';
  const downloadDue = failed?.retryAt !== undefined && input.now.getTime() >= Date.parse(failed.retryAt);
  if (failed && !input.retry && !downloadDue) {
    if (failed.releaseDigest === release.digest && failed.retryAt !== undefined) {
      return wait(`agent ${target.version} could not be downloaded at ${failed.at} (${failed.reason}); trying again at ${failed.retryAt}`, failed.retryAt);
    }
    if (failed.releaseDigest === release.digest) {
      return wait(
        `agent ${target.version} failed on this node at ${failed.at} (${failed.step}: ${failed.reason}); ` +
          `not tried again until agents/${target.version}/agent.yaml changes in the channel, or duck self-update --retry`,
      );
    }
    republished = ` (it failed here at ${failed.at}; its release has changed since)`;
  }
  if (failed && downloadDue && !input.retry) republished = ` (its download failed at ${failed.at}; trying again)`;

  if (target.source === 'pin') return apply(`pinned to ${target.version} in ${overlayFile}: ${change} now${republished}`);
  if (input.requested) return apply(`requested with duck self-update: ${change} now${republished}`);
  if (input.clockRegressed) return wait(`clock-regressed: the clock is behind a time already seen; no time-based decision for ${change}`);
  if ((input.overlay.approval ?? 'auto') === 'manual') {
    return wait(`waiting for approval (approval: manual in ${overlayFile}): run duck self-update --yes to move ${change}`);
  }
  const windows = windowsInForce(input);
  if (windows.list.length === 0) return apply(`no maintenance windows set: ${change} now${republished}`);
  const state = input.calendar.windowState(windows.list, input.now, input.zone);
  if (state.current) return apply(`inside window ${state.current.label}: ${change}${republished}`);
  const next = state.next!;
  return wait(`waiting for window ${next.label} (opens ${next.start.toISOString()}) to move ${change}`, next.start);
}
