import type { AcceptedAnchor, AgentState, ChannelFetchFailure, VerifiedSignatureFact } from './agent-state.js';

/** What a channel check leaves in the state, pure: the caller passes the draft of one update. */

/**
 * A check that moved nothing (same anchor, no refusal or fetch failure to clear, no new signature
 * fact) refreshes only lastCheckAt and newestTimeSeen: it is written when the recorded check is at
 * least this old, so an idle daemon polling every second writes its state once a minute, not at
 * every poll. Both times then lag by less than this: under CLOCK_TOLERANCE_MS (2 min), so the
 * clock-regression check keeps its meaning across a restart.
 */
export const CHECK_RECORD_MS = 60_000;

/** The parts of a (frozen) state a check record reads. */
interface CheckedState {
  readonly channel: {
    readonly anchor: AcceptedAnchor | null;
    readonly lastRefusal: unknown;
    readonly fetchFailure?: unknown;
    readonly lastCheckAt: string | null;
    readonly verified: Readonly<Record<string, unknown>>;
  };
  readonly newestTimeSeen: string | null;
}

/** Whether recordAccepted() would change more than a check time recorded under CHECK_RECORD_MS ago. */
export function acceptNeedsRecord(s: CheckedState, anchor: AcceptedAnchor, learned: Readonly<Record<string, VerifiedSignatureFact>>, now: Date): boolean {
  const { channel } = s;
  if (channel.anchor !== anchor && JSON.stringify(channel.anchor) !== JSON.stringify(anchor)) return true;
  if (channel.lastRefusal !== null || (channel.fetchFailure ?? null) !== null) return true;
  if (Object.keys(learned).some((oid) => channel.verified[oid] === undefined)) return true;
  const checked = channel.lastCheckAt === null ? NaN : Date.parse(channel.lastCheckAt);
  const seen = s.newestTimeSeen === null ? NaN : Date.parse(s.newestTimeSeen);
  const elapsed = now.getTime() - Math.min(checked, seen);
  // NaN (never recorded) and a clock behind the record both write.
  return !(elapsed >= 0 && elapsed < CHECK_RECORD_MS);
}

/**
 * An accepted commit becomes the anchor; the signature facts the walk learned are kept. The run of
 * fetch failures ends, unless `fetchStillFailing`: the git host answered for a tip pointer that
 * could not be read, and the pointer's run goes on (its `since` and count) until it reads again.
 */
export function recordAccepted(
  s: AgentState,
  anchor: AcceptedAnchor,
  learned: Readonly<Record<string, VerifiedSignatureFact>>,
  now: Date,
  fetchStillFailing = false,
): void {
  s.channel.anchor = anchor;
  s.channel.lastRefusal = null;
  if (!fetchStillFailing) s.channel.fetchFailure = null;
  s.channel.lastCheckAt = now.toISOString();
  Object.assign(s.channel.verified, learned);
  s.newestTimeSeen = newest(s.newestTimeSeen, now);
}

/**
 * A refusal changes nothing but its own record: the anchor stays, the stacks stay as they are.
 * The signature facts the walk learned are kept all the same: they are facts about bytes.
 */
export function recordRefusal(
  s: AgentState,
  refusal: { code: string; message: string; tip: string },
  learned: Readonly<Record<string, VerifiedSignatureFact>>,
  now: Date,
): void {
  Object.assign(s.channel.verified, learned);
  // The tip was fetched: whatever kept the channel out of reach is over.
  s.channel.fetchFailure = null;
  s.channel.lastRefusal = { tip: refusal.tip, reason: refusal.code, message: refusal.message, at: now.toISOString() };
  s.channel.lastCheckAt = now.toISOString();
  s.newestTimeSeen = newest(s.newestTimeSeen, now);
}

/**
 * The channel could not be fetched: the run of failures grows (or starts), the anchor and the
 * last refusal stay as they were. `nextTryAt` is the next poll on this node's grid.
 */
export function recordFetchFailure(s: AgentState, failure: { code: string; message: string }, now: Date, nextTryAt: Date): ChannelFetchFailure {
  const before = s.channel.fetchFailure ?? null;
  const record: ChannelFetchFailure = {
    reason: failure.code,
    message: failure.message,
    since: before?.since ?? now.toISOString(),
    at: now.toISOString(),
    failures: (before?.failures ?? 0) + 1,
    nextTryAt: nextTryAt.toISOString(),
  };
  // lastCheckAt stays: no check happened, and a node that cannot reach its channel must not look fresh.
  s.channel.fetchFailure = record;
  return record;
}

function newest(seen: string | null, now: Date): string {
  return seen && Date.parse(seen) > now.getTime() ? seen : now.toISOString();
}
