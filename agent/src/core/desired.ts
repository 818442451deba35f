import type { GroupFile, OverlayFile, ReleaseFile, WaitKind } from '../../../schemas/index.js';
import type { AppBackoff, FailedVersion, InstalledApp } from './agent-state.js';
import type { Calendar } from './window-spec.js';

/** What resolve() decides for one app: the version it should run and whether to move now. */
export type Decision = 'apply' | 'wait' | 'none';

/** Who asked for the change: windows and rollout gate the channel, never an operator's own act. */
export type Trigger = 'channel' | 'urgent' | 'pin' | 'schedule' | 'upgrade' | 'restore';

export interface AppDesired {
  readonly app: string;
  readonly current: string | null;
  readonly desired: string | null;
  readonly source: 'group' | 'pin' | 'installed';
  /** What the group file asks for, before the node's own pin; null when the app is not in the group. */
  readonly groupVersion: string | null;
  /** The operator pinned this app in the overlay. */
  readonly pinned: boolean;
  readonly decision: Decision;
  /** With decision wait: what the change waits for. */
  readonly waitingFor: WaitKind | null;
  /** The back-off holding the change back, with decision wait for a back-off. */
  readonly backoff: AppBackoff | null;
  /** A sentence a person reads: the window, bucket, hold or pin behind the decision. */
  readonly reason: string;
  /** When a wait ends by itself, if it does (ISO). */
  readonly until: string | null;
  readonly trigger: Trigger | null;
  /** The release to move to, when the decision is apply. */
  readonly release: ReleaseFile | null;
  readonly bucket: number | null;
  readonly percent: number | null;
}

export interface NodeFacts {
  readonly apps: Readonly<Record<string, InstalledApp>>;
  readonly failed: Readonly<Record<string, FailedVersion>>;
  readonly backoff: Readonly<Record<string, AppBackoff>>;
  readonly admitted: Readonly<Record<string, string>>;
  readonly schedulesDone: Readonly<Record<string, string>>;
}

export interface ResolveInput {
  /** The accepted commit everything below was read from. */
  readonly commit: string;
  readonly group: GroupFile;
  readonly groupFile: string;
  /** Every release resolve may target, by `app@version`: the group's and the overlay's pins. */
  readonly releases: ReadonlyMap<string, ReleaseFile>;
  /** Pinned versions that could not be read from the accepted commit, with why. */
  readonly releaseErrors: ReadonlyMap<string, string>;
  readonly overlay: OverlayFile;
  readonly overlayFile: string;
  readonly now: Date;
  /** The clock went back behind a time already seen: no time-based decision (DESIGN §4.1). */
  readonly clockRegressed: boolean;
  readonly agentId: string;
  /** The node's IANA zone, for windows without one and for a hold `until` given as a date. */
  readonly zone: string;
  /** The date arithmetic in a zone, for windows and a hold's end (needsCalendar in resolve.ts). */
  readonly calendar: Calendar;
  readonly node: NodeFacts;
  /** Apps an operator asked to move now (`duck upgrade`), or 'all'. */
  readonly upgradeNow: ReadonlySet<string> | 'all';
}

export interface HoldInForce {
  readonly reason: string;
  readonly until: string | null;
}

export interface DesiredState {
  readonly commit: string;
  readonly apps: readonly AppDesired[];
  readonly hold: HoldInForce | null;
  readonly approval: 'manual' | 'auto';
  readonly windowsFrom: 'overlay' | 'group' | 'none';
  readonly windows: readonly string[];
  readonly nextWindow: { readonly start: string; readonly label: string } | null;
  readonly windowOpen: boolean;
  /** `app@version` keys this node has just entered the rollout of: the caller records them. */
  readonly admit: readonly string[];
}

export function releaseKey(app: string, version: string): string {
  return `${app}@${version}`;
}
