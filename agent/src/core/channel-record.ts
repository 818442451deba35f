import type { AcceptedAnchor, AgentState, ChannelFetchFailure, VerifiedSignatureFact } from './agent-state.js';

/** What a channel check leaves in the state, pure: the caller passes the draft of one update. */

/** An accepted commit becomes the anchor; the signature facts the walk learned are kept. */
export function recordAccepted(s: AgentState, anchor: AcceptedAnchor, learned: Readonly<Record<string, VerifiedSignatureFact>>, now: Date): void {
  s.channel.anchor = anchor;
  s.channel.lastRefusal = null;
  s.channel.fetchFailure = null;
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
