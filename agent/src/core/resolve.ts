import { backoffInForce } from './backoff.js';
import { releaseDigest } from './config-hash.js';
import type { AppBackoff } from './agent-state.js';
import type { GroupFile, OverlayFile, Window, WaitKind } from '../../../schemas/index.js';
import type { AppDesired, DesiredState, HoldInForce, ResolveInput, Trigger } from './desired.js';
import { releaseKey } from './desired.js';
import { appPins } from './overlay-pins.js';
import { formatBucket, rolloutBucket, rolloutPosition } from './rollout.js';
import type { WindowState } from './window-spec.js';
import { describeWindow } from './window-spec.js';

/** Nodes spread their start over this first part of a window, by bucket (DESIGN §4.1). */
export const WINDOW_SPREAD_FRACTION = 0.25;

/**
 * DESIGN §4.1: desired = resolve(group, releases, overlay, now, agent id) — pure. Each app gets
 * the version it should run and a decision with the reason a person reads.
 */
export function resolve(input: ResolveInput): DesiredState {
  const hold = holdInForce(input);
  const windows = windowsInForce(input);
  const state = windows.list.length > 0 ? input.calendar.windowState(windows.list, input.now, input.zone) : null;
  const resolved = appNames(input).map((app) => resolveApp(input, app, hold, state));
  const apps = resolved.map((r) => r.desired);
  const admit = resolved.flatMap((r) => (r.admit ? [r.admit] : []));
  return {
    commit: input.commit,
    apps,
    hold,
    approval: input.overlay.approval ?? 'auto',
    windowsFrom: windows.from,
    windows: windows.list.map((w) => describeWindow(w, input.zone)),
    nextWindow: state?.next ? { start: state.next.start.toISOString(), label: state.next.label } : null,
    windowOpen: state ? state.open : true,
    admit,
  };
}

function appNames(input: ResolveInput): string[] {
  const names = new Set([...Object.keys(input.group.apps), ...Object.keys(appPins(input.overlay)), ...Object.keys(input.node.apps)]);
  return [...names].sort();
}

type RolloutFacts = { bucket?: number | null; percent?: number | null };
/** One app's decision, and the rollout it has just entered (`app@version`), for the caller to record. */
type Resolved = { desired: AppDesired; admit: string | null };
type Verdict = Pick<AppDesired, 'decision' | 'reason' | 'until' | 'trigger'> & RolloutFacts & { waitingFor?: WaitKind; backoff?: AppBackoff };

function resolveApp(
  input: ResolveInput,
  app: string,
  hold: HoldInForce | null,
  state: WindowState | null,
): Resolved {
  const current = input.node.apps[app]?.version ?? null;
  const pinned = appPins(input.overlay)[app];
  const fromGroup = input.group.apps[app];
  const source = pinned !== undefined ? 'pin' : fromGroup !== undefined ? 'group' : 'installed';
  const desired = pinned ?? fromGroup ?? current;
  const release = desired !== null ? (input.releases.get(releaseKey(app, desired)) ?? null) : null;
  let admit: string | null = null;
  const result = (r: Verdict, target: string | null = desired): Resolved => ({
    admit,
    desired: {
      app,
      current,
      desired: target,
      source,
      groupVersion: fromGroup ?? null,
      pinned: pinned !== undefined,
      release: r.decision === 'apply' ? release : null,
      bucket: r.bucket ?? null,
      percent: r.percent ?? null,
      decision: r.decision,
      waitingFor: r.decision === 'wait' ? (r.waitingFor ?? null) : null,
      backoff: r.backoff ?? null,
      reason: r.reason,
      until: r.until,
      trigger: r.trigger,
    },
  });
  const wait = (waitingFor: WaitKind, reason: string, until: Date | string | null = null, extra: Partial<Verdict> = {}): Resolved =>
    result({ decision: 'wait', waitingFor, reason, until: until instanceof Date ? until.toISOString() : until, trigger: null, ...extra });
  const apply = (trigger: Trigger, reason: string, extra: RolloutFacts = {}): Resolved =>
    result({ decision: 'apply', reason, until: null, trigger, ...extra });

  if (source === 'installed') {
    return result({
      decision: 'none',
      reason: `no longer in ${input.groupFile}: orphaned; stopped, its data kept until duck purge ${app}`,
      until: null,
      trigger: null,
    });
  }
  if (pinned !== undefined && !release) {
    const why = input.releaseErrors.get(releaseKey(app, pinned)) ?? `the accepted commit has no releases/${app}/${pinned}/`;
    return result(
      { decision: 'wait', waitingFor: 'release', reason: `pin ${app} ${pinned} in ${input.overlayFile} refused: ${why}; staying on ${current ?? 'nothing'}`, until: null, trigger: null },
      current,
    );
  }
  if (desired === current) {
    if (input.node.apps[app]?.stoppedByOperator) {
      return result({ decision: 'none', reason: `${current} stopped by the operator (duck stop): it stays stopped until duck start ${app}`, until: null, trigger: null });
    }
    const why = source === 'pin' ? `pinned in ${input.overlayFile}` : `as ${input.groupFile} asks`;
    return result({ decision: 'none', reason: `running ${current} ${why}`, until: null, trigger: null });
  }
  if (!release || desired === null) return wait('release', `no release ${app} ${desired} in the accepted commit`);

  const change = `${current ?? 'nothing'} -> ${desired}`;
  if (hold) return wait('hold', `held: ${hold.reason}${hold.until ? ` (until ${hold.until})` : ''}; not moving ${change}`, hold.until);

  const failed = input.node.failed[app];
  const upgradeNow = input.upgradeNow === 'all' || input.upgradeNow.has(app);
  if (failed && failed.version === desired && !upgradeNow && !failed.retryRequested) {
    // Without a recorded digest (an older state file) any new commit counts as a change.
    const sameRelease = failed.releaseDigest ? failed.releaseDigest === releaseDigest(release) : failed.commit === input.commit;
    const attempts = failed.attempts ?? 1;
    const allowed = 1 + (release.retries ?? 0);
    if (sameRelease && attempts >= allowed) {
      return wait(
        'failed',
        `${app} ${desired} failed on this node at ${failed.at} (${failed.reason}); ${attempts} of ${allowed} attempt(s) used, ` +
          `not retried until its release changes in the channel, duck retry ${app}, or duck upgrade`,
      );
    }
  }

  // The release's digest (a hash of it) only for an app that has a back-off to compare it with.
  const inBackoff = upgradeNow ? undefined : input.node.backoff[app];
  const backoff = inBackoff ? backoffInForce(inBackoff, { version: desired, releaseDigest: releaseDigest(release) }, input.now) : null;
  if (backoff) {
    return wait(
      'backoff',
      `${change} failed ${backoff.failures} time(s) in a row without stopping anything (${backoff.cause}: ${backoff.message}); ` +
        `tried again at ${backoff.nextTryAt}, or now with duck retry ${app} or duck upgrade`,
      backoff.nextTryAt,
      { backoff },
    );
  }

  if (input.node.apps[app]?.stoppedByOperator && !upgradeNow) {
    return wait('stopped', `stopped by the operator (duck stop): ${change} waits until duck start ${app} or duck upgrade`);
  }

  if (source === 'pin') return apply('pin', `pinned to ${desired} in ${input.overlayFile}: ${change} now`);
  if (upgradeNow) return apply('upgrade', `requested with duck upgrade: ${change} now`);
  if (input.clockRegressed) return wait('clock', `clock-regressed: the clock is behind a time already seen; no time-based decision for ${change}`);

  const schedule = input.overlay.schedule?.[app];
  if (schedule && input.node.schedulesDone[app] !== schedule.at) {
    if (Date.parse(schedule.at) <= input.now.getTime()) return apply('schedule', `scheduled for ${schedule.at} in ${input.overlayFile}: ${change}`);
    return wait('schedule', `scheduled for ${schedule.at} in ${input.overlayFile}: ${change} then`, new Date(schedule.at));
  }
  if ((input.overlay.approval ?? 'auto') === 'manual') {
    return wait('approval', `waiting for approval (approval: manual in ${input.overlayFile}): run duck upgrade to move ${change}`);
  }

  const bucket = rolloutBucket(input.agentId, app, desired);
  const key = releaseKey(app, desired);
  const position = rolloutPosition(input.group.rollout, bucket, input.now);
  const alreadyIn = input.node.admitted[key] !== undefined;
  if (!alreadyIn && !position.isIn) {
    const next = position.admitsAt ? `; in at ${position.admitsAt.toISOString()}` : '; no later step takes it in';
    return wait('rollout', `in rollout bucket ${formatBucket(bucket)}, now at ${position.percent}%${next}`, position.admitsAt, { bucket, percent: position.percent });
  }
  if (!alreadyIn) admit = key;
  const rollout = { bucket, percent: position.percent };

  if (input.group.urgent) return apply('urgent', `urgent release: ${change} without waiting for a window`, rollout);
  if (!state) return apply('channel', `no maintenance windows set: ${change} now`, rollout);
  const spreadMs = (occurrenceMs: number): number => Math.floor((bucket / 100) * occurrenceMs * WINDOW_SPREAD_FRACTION);
  if (state.current) {
    const turn = new Date(state.current.start.getTime() + spreadMs(state.current.end.getTime() - state.current.start.getTime()));
    if (turn.getTime() <= input.now.getTime()) return apply('channel', `inside window ${state.current.label}: ${change}`, rollout);
    return wait('window', `window ${state.current.label} is open; this node's turn (bucket ${formatBucket(bucket)}) comes at ${turn.toISOString()}`, turn, rollout);
  }
  const next = state.next!;
  const turn = new Date(next.start.getTime() + spreadMs(next.end.getTime() - next.start.getTime()));
  return wait('window', `waiting for window ${next.label} to move ${change}`, turn, rollout);
}

/** The overlay's hold, unless its end has passed (a regressed clock keeps holding). */
export function holdInForce(input: Pick<ResolveInput, 'overlay' | 'calendar' | 'zone' | 'clockRegressed' | 'now'>): HoldInForce | null {
  const hold = input.overlay.hold;
  if (!hold) return null;
  if (!hold.until) return { reason: hold.reason, until: null };
  const end = input.calendar.holdEnd(hold.until, input.zone);
  // A hold whose time has passed is over; with a regressed clock, keep holding: the safe side.
  if (!input.clockRegressed && end.getTime() <= input.now.getTime()) return null;
  return { reason: hold.reason, until: end.toISOString() };
}

/**
 * Whether resolve() over this group and overlay reads a date in a zone (a window, a hold's end):
 * only then does its caller need to load the calendar (windows.ts) and ask for the node's zone.
 */
export function needsCalendar(group: GroupFile, overlay: OverlayFile): boolean {
  return windowsInForce({ group, overlay }).list.length > 0 || overlay.hold?.until !== undefined;
}

/** The overlay's windows replace the group's. */
export function windowsInForce(input: Pick<ResolveInput, 'group' | 'overlay'>): { from: DesiredState['windowsFrom']; list: readonly Window[] } {
  if (input.overlay.windows) return { from: 'overlay', list: input.overlay.windows };
  if (input.group.windows && input.group.windows.length > 0) return { from: 'group', list: input.group.windows };
  return { from: 'none', list: [] };
}

/**
 * The first instant after `input.now` at which resolve() over the same input could answer
 * otherwise: nothing in its input but the clock moves, and the clock matters only at these edges —
 * a wait's end (window turn, rollout step, back-off, schedule), the hold's end, the window state's
 * next change (the open occurrence's end, the next one's start), every later rollout step (a
 * wait's reason names the percent in force). `maxAgeMs` bounds it: a window occurrence beyond the
 * look-ahead, or anything else the list misses, is seen again within that.
 */
export function decisionsValidUntil(input: ResolveInput, desired: DesiredState, maxAgeMs: number): Date {
  const nowMs = input.now.getTime();
  let edge = nowMs + maxAgeMs;
  const consider = (at: Date | string | null | undefined): void => {
    if (at === null || at === undefined) return;
    const ms = at instanceof Date ? at.getTime() : Date.parse(at);
    if (Number.isNaN(ms)) edge = nowMs;
    else if (ms > nowMs && ms < edge) edge = ms;
  };
  for (const app of desired.apps) consider(app.until);
  consider(desired.hold?.until);
  if (input.overlay.hold?.until) consider(input.calendar.holdEnd(input.overlay.hold.until, input.zone));
  const windows = windowsInForce(input);
  if (windows.list.length > 0) {
    const state = input.calendar.windowState(windows.list, input.now, input.zone);
    consider(state.current?.end);
    consider(state.next?.start);
  }
  for (const step of input.group.rollout ?? []) consider(step.at);
  for (const schedule of Object.values(input.overlay.schedule ?? {})) consider(schedule.at);
  for (const backoff of Object.values(input.node.backoff)) consider(backoff.nextTryAt);
  return new Date(edge);
}
