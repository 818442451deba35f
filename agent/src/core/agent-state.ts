/**
 * The agent's durable state (DESIGN §4.5), one JSON document under the state directory.
 * `schemaVersion` lets a later agent migrate a file an earlier one wrote.
 */
export const STATE_SCHEMA_VERSION = 1;

export interface AcceptedAnchor {
  readonly commit: string;
  readonly signerFingerprint: string;
  readonly signerName: string;
  /** Committer time of the accepted commit (ISO): freshness is measured from it. */
  readonly committedAt: string;
  readonly acceptedAt: string;
  readonly channelVersion: number;
}

export interface ChannelRefusal {
  readonly tip: string;
  readonly reason: string;
  readonly message: string;
  readonly at: string;
}

export interface VerifiedSignatureFact {
  readonly fingerprint: string;
  readonly keyId: string;
  readonly valid: boolean;
  readonly message?: string;
}

export interface ChannelState {
  anchor: AcceptedAnchor | null;
  lastRefusal: ChannelRefusal | null;
  lastCheckAt: string | null;
  /** Signature facts by commit id, so no commit is verified twice. */
  verified: Record<string, VerifiedSignatureFact>;
}

export interface AgentState {
  schemaVersion: number;
  channel: ChannelState;
  /** The newest agent-clock time seen (ISO): a clock behind it makes no time-based decision. */
  newestTimeSeen: string | null;
}

export function emptyAgentState(): AgentState {
  return {
    schemaVersion: STATE_SCHEMA_VERSION,
    channel: { anchor: null, lastRefusal: null, lastCheckAt: null, verified: {} },
    newestTimeSeen: null,
  };
}

/** Bounded so a long-lived agent's state file stays small; the newest facts are kept. */
export const VERIFIED_CACHE_LIMIT = 20_000;
