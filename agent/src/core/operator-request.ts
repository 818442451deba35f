import type { DuckErrorCode } from '../../../schemas/errors.js';
import type { Outcome } from './agent-state.js';

/**
 * What an operator asks the agent to do now. Plain data: carried out in-process when no
 * `duck run` holds the state directory, or handed to the running daemon as a file.
 */
export type OperatorRequest =
  /**
   * Fetch and verify the channel now (duck check, verify and upgrade while duck run runs).
   * `allowReset`: with no accepted commit in the state, accept a tip that does not descend from what the stacks run.
   */
  | { kind: 'fetch'; allowReset?: boolean }
  /** Move now, outside windows and approval; `targets` are the versions the operator was shown. */
  | { kind: 'upgrade'; apps: string[] | null; targets: Record<string, string>; force: boolean }
  /** Lift the quarantine of a failed version (the change still waits for its window). */
  | { kind: 'retry'; app: string }
  | { kind: 'start' | 'stop' | 'restart'; app: string }
  | { kind: 'backup'; app: string }
  | { kind: 'restore'; backupId: string }
  | { kind: 'purge'; app: string }
  /** Record that the operator read an announcement in force on this node (duck announcements ack, the console). */
  | { kind: 'acknowledge'; id: string }
  /** Enroll with the controller now (duck diagnostics --upload before the daemon did). */
  | { kind: 'enroll' };

export interface ChangeSummary {
  readonly app: string;
  readonly outcome: Outcome;
  readonly from: string | null;
  /** null only for a purge. */
  readonly to: string | null;
  readonly reason: string;
  readonly ms: number;
}

/** What `fetch` answers in `data.channel`: the accepted commit as duck verify prints it. */
export interface FetchedChannelData {
  readonly commit: string;
  readonly signer: { readonly name: string; readonly fingerprint: string };
  readonly committedAt: string;
  readonly channelVersion: number;
  readonly changed: boolean;
  readonly fetched: boolean;
  readonly stale: boolean;
  readonly freshnessMs: number | null;
  readonly group: string;
  readonly groupFile: string;
  readonly passedOver: ReadonlyArray<{ readonly commit: string; readonly reason: string; readonly message: string }>;
  /** The accepted signer's channel.yaml scope (all | promote), when this check verified a new commit. */
  readonly signerScope?: string;
  /** For a promotion: the commit whose content it was checked against. */
  readonly promotionBase?: string | null;
  /** What counted for each k-of-n rule the accepted tip touched. */
  readonly thresholds?: ReadonlyArray<{ readonly paths: readonly string[]; readonly count: number; readonly signers: readonly string[] }>;
}

/** The answer: lines for a person, changes for scripts, and the error when it failed. */
export interface RequestResult {
  readonly ok: boolean;
  readonly lines: string[];
  readonly changes: ChangeSummary[];
  readonly data?: Record<string, unknown>;
  readonly error?: { code: DuckErrorCode; message: string };
}
