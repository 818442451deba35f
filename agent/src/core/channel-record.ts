import type { AcceptedAnchor, AgentState, VerifiedSignatureFact } from './agent-state.js';

/** What a channel check leaves in the state, pure: the caller passes the draft of one update. */

/** An accepted commit becomes the anchor; the signature facts the walk learned are kept. */
export function recordAccepted(s: AgentState, anchor: AcceptedAnchor, learned: Readonly<Record<string, VerifiedSignatureFact>>, now: Date): void {
  s.channel.anchor = anchor;
  s.channel.lastRefusal = null;
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
  s.channel.lastRefusal = { tip: refusal.tip, reason: refusal.code, message: refusal.message, at: now.toISOString() };
  s.channel.lastCheckAt = now.toISOString();
  s.newestTimeSeen = newest(s.newestTimeSeen, now);
}

function newest(seen: string | null, now: Date): string {
  return seen && Date.parse(seen) > now.getTime() ? seen : now.toISOString();
}
