// What the controller keeps, behind one small async interface. Two stores implement it: the
// default EmbeddedFleetStore (small documents plus an append-only log under --data,
// group-committed) and PgFleetStore (PostgreSQL, chosen with --store postgres://…), where a fleet
// moves that outgrows one process's memory or needs several controller instances. test/helpers/fleet-store-contract.ts holds both to the same cases.
import type { AgentStatus, ChangeOutcome, FailureBlame, NodeFacts, ReportEvent, ReportMessage } from '../../../schemas/index.js';
import type { NodeCounts, NodeVerdict } from '../change-verdict.js';
import type { Log } from '../log.js';
import type { SessionStore } from '../sessions.js';

/** The token hash of an agent an operator released: no token matches it, and the fleet token may enroll the id again. */
export const RELEASED = '';
/** Events kept per agent, whatever the retention: a report past it drops the agent's oldest (both stores). */
export const MAX_EVENTS_PER_AGENT = 2000;

/** The store's data exists but cannot be used; the controller refuses to start rather than overwrite it. */
export class StoreOpenError extends Error {
  override readonly name = 'StoreOpenError';
  constructor(
    /** The data file, or the database URL without its password. */
    readonly location: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${location}: ${message}`, options);
  }
}

export interface AgentRecord {
  agentId: string;
  /** sha256 (hex) of the agent's current token; the token itself is never stored. RELEASED: none, open to enroll again. */
  tokenHash: string;
  facts: NodeFacts;
  enrolledAt: string;
  /** Receive time of its last report; null until the first. */
  lastSeenAt: string | null;
  status: AgentStatus | null;
  /** app → outcome of the newest change event reported for it. */
  lastOutcomes: Record<string, ChangeOutcome>;
  /** app → this node's verdict on the version it last tried, so a node counts once per version. */
  verdicts?: Record<string, CountedVerdict>;
}

export interface CountedVerdict {
  group: string;
  version: string;
  verdict: NodeVerdict;
}

export interface StoredEvent extends ReportEvent {
  receivedAt: string;
}

export interface DiagnosticRecord {
  id: string;
  agentId: string;
  /** A sanitized display name; the file on disk is always `<id>.tar.gz`. */
  filename: string;
  bytes: number;
  sha256: string;
  receivedAt: string;
}

/** Change outcomes per (group of the reporting agent, app, version = event.to). */
export interface OutcomeCounts {
  group: string;
  app: string;
  version: string;
  /** Attempts by outcome, every retry counted. */
  applied: number;
  rolledBack: number;
  rollbackFailed: number;
  deferred: number;
  /** Failed with nothing stopped (no space, a download, the engine). */
  failed: number;
  interrupted: number;
  /** Nodes by verdict, each node once: what the failure-rate alert reads. */
  nodes: NodeCounts;
}

export interface OutcomeEntry extends OutcomeCounts {
  /** Agents where this version failed by its own fault (bounded), for the alert. */
  failedAgents: string[];
}

export interface FailureRecord {
  agentId: string;
  hostname: string;
  group: string;
  app: string;
  from: string | null;
  to: string | null;
  outcome: ChangeOutcome;
  reason: string;
  /** The release's fault or the node's (the event's blame, else the rule for its outcome). */
  blame: FailureBlame;
  /** The latest occurrence; agentId, hostname and from are the latest's. */
  at: string;
  /** The same failure (group, app, version, outcome, reason, blame) folded: occurrences, the first, nodes. */
  count: number;
  firstAt: string;
  agents: number;
  /** Bounded. */
  agentIds: string[];
}

export interface AlertRecord {
  group: string;
  app: string;
  version: string;
  rate: number;
  /** Nodes that tried the version (applied or failed by the release's fault). */
  attempts: number;
  /** Nodes where the release failed. */
  failures: number;
  /** Nodes that failed for the node's own reasons, not counted in the rate (absent in alerts from before). */
  infrastructureFailures?: number;
  at: string;
}

export interface ReportResult {
  accepted: number;
  duplicates: number;
  /** Ids of the events new to the store, in report order. */
  acceptedIds: string[];
  /** The outcome rows this report changed, after the change. */
  touched: OutcomeEntry[];
}

export interface RetentionPolicy {
  eventRetentionMs: number;
  diagnosticsRetentionMs: number;
  /** Bundles kept per agent, the newest; none dropped by count when absent. */
  diagnosticsPerAgent?: number;
}

/** One page of the agents in id order, and how many agents the fleet has. */
export interface AgentPage {
  agents: AgentRecord[];
  total: number;
}

export interface PruneResult {
  events: number;
  /** Records removed; the caller deletes their files. */
  diagnostics: DiagnosticRecord[];
}

/** Sends one alert to the webhook, retries included; rejects when it could not, or when `signal` stopped it. */
export type AlertSend = (alert: AlertRecord, agents: readonly string[], signal: AbortSignal) => Promise<void>;

/** What sends the alerts a store records: each exactly once, whichever controller recorded it. */
export interface AlertDispatch {
  /** recordAlert answered true for this alert on this controller: send it, or wake the controller that sends. */
  recorded(alert: AlertRecord, agents: readonly string[]): void;
  /** Stops sending and waits for the deliveries in flight to settle. */
  close(): Promise<void>;
}

export interface FleetStore {
  /** Where the data lives, for messages (a file path, a database URL without password). */
  readonly location: string;
  /** Dashboard sessions as every controller on this store sees them. */
  readonly sessions: SessionStore;
  /**
   * Starts what sends this store's alerts through `send`: the controller that records an alert
   * (the embedded store serves one controller), or the one alert leader among the controllers on
   * a database (store/pg-alert-leader.ts).
   */
  dispatchAlerts(send: AlertSend, log: Log): AlertDispatch;
  /**
   * Enrolls an agent or re-enrolls it with a new token hash, keeping its history. With `onlyNew`,
   * an id enrolled and not released is left as it is and the answer is null (checked and written
   * at once, so two enrollments cannot both pass).
   */
  register(agentId: string, facts: NodeFacts, tokenHash: string, now: Date, opts?: { onlyNew?: boolean }): Promise<AgentRecord | null>;
  /** Stops the agent's token and lets the fleet token enroll its id again; false for an unknown id. */
  releaseEnrollment(agentId: string): Promise<boolean>;
  /** The agent whose current token has this sha256, or null. */
  agentIdForTokenHash(tokenHash: string): Promise<string | null>;
  /** Resolves once the report is durable. Events already seen (by id, per agent) are not counted again. */
  recordReport(report: ReportMessage, receivedAt: Date): Promise<ReportResult>;
  /** Records an alert unless one exists for the same (group, app, version); true when recorded. */
  recordAlert(alert: AlertRecord): Promise<boolean>;
  addDiagnostic(record: DiagnosticRecord): Promise<void>;
  getAgent(agentId: string): Promise<AgentRecord | null>;
  listAgents(): Promise<readonly AgentRecord[]>;
  /** Up to `limit` agents in agent-id order, strictly after `after` (from the first when null): a keyset page. */
  listAgentsPage(after: string | null, limit: number): Promise<AgentPage>;
  /** Newest first. */
  events(agentId: string, limit: number): Promise<StoredEvent[]>;
  diagnostics(agentId?: string): Promise<DiagnosticRecord[]>;
  getDiagnostic(id: string): Promise<DiagnosticRecord | null>;
  /** In no set order (the fleet summary sorts them). */
  outcomes(): Promise<OutcomeCounts[]>;
  /** Newest first. */
  recentFailures(limit: number): Promise<FailureRecord[]>;
  alerts(): Promise<AlertRecord[]>;
  prune(now: Date, policy: RetentionPolicy): Promise<PruneResult>;
  /** False after a write failed, until one succeeds. */
  healthy(): boolean;
  /** Writes what is pending and releases the store. */
  close(): Promise<void>;
}
