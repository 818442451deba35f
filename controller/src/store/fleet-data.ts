// The fleet as one in-memory document plus its indexes, which make a report, a token check and a
// lookup O(1) at 100,000 agents. The embedded store persists it as small documents plus a log of
// what changed (fleet-log.ts); `file` is also the shape a format-1 fleet.json had. No I/O here.
import type { NodeFacts, ReportMessage } from '../../../schemas/index.js';
import { BLAME_WITHOUT_FIELD, emptyNodeCounts } from '../change-verdict.js';
import { addFailure, normalizeFailure } from './failure-log.js';
import type {
  AgentRecord,
  AlertRecord,
  DiagnosticRecord,
  FailureRecord,
  OutcomeEntry,
  PruneResult,
  ReportResult,
  RetentionPolicy,
  StoredEvent,
} from './fleet-store.js';
import { MAX_EVENTS_PER_AGENT, RELEASED } from './fleet-store.js';
import { emptyOutcomeRow, foldEvent, outcomeKey, type FoldTarget } from './report-fold.js';

export const FLEET_FILE_FORMAT = 1;

export interface AgentEntry extends AgentRecord {
  /** Receive order, oldest first. */
  events: StoredEvent[];
}

export interface FleetFile {
  format: typeof FLEET_FILE_FORMAT;
  agents: AgentEntry[];
  diagnostics: DiagnosticRecord[];
  outcomes: OutcomeEntry[];
  /** Oldest first. */
  recentFailures: FailureRecord[];
  alerts: AlertRecord[];
}

export function emptyFleetFile(): FleetFile {
  return { format: FLEET_FILE_FORMAT, agents: [], diagnostics: [], outcomes: [], recentFailures: [], alerts: [] };
}

/** Data written before per-node counts, the failed column and folded failures reads with their defaults. */
function normalize(file: FleetFile): void {
  for (const o of file.outcomes) {
    o.failed ??= 0;
    o.interrupted ??= 0;
    // Older rows counted attempts only; their nodes start at zero rather than be guessed.
    o.nodes ??= emptyNodeCounts();
  }
  for (const f of file.recentFailures) normalizeFailure(f, BLAME_WITHOUT_FIELD[f.outcome] ?? 'release');
}

export class FleetData {
  // Maps, not plain objects: an agent id like "constructor" must not meet Object.prototype.
  private readonly byId = new Map<string, AgentEntry>();
  private readonly byTokenHash = new Map<string, string>();
  private readonly seen = new Map<string, Set<string>>();
  private readonly diagnosticsById = new Map<string, DiagnosticRecord>();
  private readonly outcomesByKey = new Map<string, OutcomeEntry>();
  private readonly alertKeys = new Set<string>();

  constructor(
    readonly file: FleetFile,
    /** Events kept per agent beyond retention; the seen-id set is exactly the kept events' ids. */
    private readonly maxEventsPerAgent = MAX_EVENTS_PER_AGENT,
  ) {
    normalize(file);
    for (const entry of file.agents) this.index(entry);
    for (const d of file.diagnostics) this.diagnosticsById.set(d.id, d);
    for (const o of file.outcomes) this.outcomesByKey.set(outcomeKey(o.group, o.app, o.version), o);
    for (const a of file.alerts) this.alertKeys.add(outcomeKey(a.group, a.app, a.version));
  }

  private index(entry: AgentEntry): void {
    this.byId.set(entry.agentId, entry);
    if (entry.tokenHash !== RELEASED) this.byTokenHash.set(entry.tokenHash, entry.agentId);
    this.seen.set(entry.agentId, new Set(entry.events.map((e) => e.id)));
  }

  agent(agentId: string): AgentEntry | undefined {
    return this.byId.get(agentId);
  }

  agentIdForTokenHash(tokenHash: string): string | null {
    return this.byTokenHash.get(tokenHash) ?? null;
  }

  /** Null when `onlyNew` and the id is enrolled (and not released). */
  register(agentId: string, facts: NodeFacts, tokenHash: string, now: Date, opts: { onlyNew?: boolean } = {}): AgentEntry | null {
    const existing = this.byId.get(agentId);
    if (existing && opts.onlyNew && existing.tokenHash !== RELEASED) return null;
    if (existing) {
      this.byTokenHash.delete(existing.tokenHash);
      existing.tokenHash = tokenHash;
      existing.facts = facts;
      this.byTokenHash.set(tokenHash, agentId);
      return existing;
    }
    const entry: AgentEntry = {
      agentId,
      tokenHash,
      facts,
      enrolledAt: now.toISOString(),
      lastSeenAt: null,
      status: null,
      lastOutcomes: {},
      verdicts: {},
      events: [],
    };
    this.file.agents.push(entry);
    this.index(entry);
    return entry;
  }

  releaseEnrollment(agentId: string): boolean {
    const entry = this.byId.get(agentId);
    if (!entry) return false;
    this.byTokenHash.delete(entry.tokenHash);
    entry.tokenHash = RELEASED;
    return true;
  }

  applyReport(report: ReportMessage, receivedAt: Date): ReportResult {
    const entry = this.byId.get(report.agentId);
    if (!entry) throw new Error(`agent ${report.agentId} is not enrolled`);
    const at = receivedAt.toISOString();
    entry.lastSeenAt = at;
    entry.status = report.status;
    if (report.facts) entry.facts = report.facts;
    const seen = this.seen.get(entry.agentId)!;
    const touched = new Map<string, OutcomeEntry>();
    const acceptedIds: string[] = [];
    const target: FoldTarget = {
      agent: entry,
      row: (group, app, version) => this.outcomeRow(group, app, version),
      addFailure: (failure) => addFailure(this.file.recentFailures, failure),
    };
    for (const event of report.events) {
      if (seen.has(event.id)) continue;
      seen.add(event.id);
      entry.events.push({ ...event, receivedAt: at });
      acceptedIds.push(event.id);
      const row = foldEvent(target, report.status.group, event);
      if (row) touched.set(outcomeKey(row.group, row.app, row.version), row);
    }
    this.trimEvents(entry, this.maxEventsPerAgent);
    return { accepted: acceptedIds.length, duplicates: report.events.length - acceptedIds.length, acceptedIds, touched: [...touched.values()] };
  }

  private outcomeRow(group: string, app: string, version: string): OutcomeEntry {
    const key = outcomeKey(group, app, version);
    let row = this.outcomesByKey.get(key);
    if (!row) {
      row = emptyOutcomeRow(group, app, version);
      this.outcomesByKey.set(key, row);
      this.file.outcomes.push(row);
    }
    return row;
  }

  private trimEvents(entry: AgentEntry, keep: number): number {
    const excess = entry.events.length - keep;
    if (excess <= 0) return 0;
    const seen = this.seen.get(entry.agentId)!;
    for (const dropped of entry.events.splice(0, excess)) seen.delete(dropped.id);
    return excess;
  }

  addAlert(alert: AlertRecord): boolean {
    const key = outcomeKey(alert.group, alert.app, alert.version);
    if (this.alertKeys.has(key)) return false;
    this.alertKeys.add(key);
    this.file.alerts.push(alert);
    return true;
  }

  addDiagnostic(record: DiagnosticRecord): void {
    this.diagnosticsById.set(record.id, record);
    this.file.diagnostics.push(record);
  }

  diagnostic(id: string): DiagnosticRecord | undefined {
    return this.diagnosticsById.get(id);
  }

  /**
   * Puts back events a log holds for an agent whose counts are already in the small documents:
   * no folding, ids already kept are skipped, the cap applies. Receive order is the caller's.
   */
  restoreEvents(agentId: string, events: readonly StoredEvent[]): void {
    const entry = this.byId.get(agentId);
    if (!entry) return;
    const seen = this.seen.get(agentId)!;
    for (const event of events) {
      if (seen.has(event.id)) continue;
      seen.add(event.id);
      entry.events.push(event);
    }
    this.trimEvents(entry, this.maxEventsPerAgent);
  }

  prune(now: Date, policy: RetentionPolicy): PruneResult {
    return { events: this.pruneEvents(now, policy.eventRetentionMs), diagnostics: this.pruneDiagnostics(now, policy) };
  }

  /** Drops events received before now − retention; how many. */
  pruneEvents(now: Date, retentionMs: number): number {
    const eventCutoff = new Date(now.getTime() - retentionMs).toISOString();
    let events = 0;
    for (const entry of this.file.agents) {
      // Receive order is time order, so the expired events are a prefix.
      let expired = 0;
      while (expired < entry.events.length && entry.events[expired]!.receivedAt < eventCutoff) expired++;
      if (expired > 0) events += this.trimEvents(entry, entry.events.length - expired);
    }
    return events;
  }

  private pruneDiagnostics(now: Date, policy: RetentionPolicy): DiagnosticRecord[] {
    const diagCutoff = new Date(now.getTime() - policy.diagnosticsRetentionMs).toISOString();
    // Upload order, newest last: counting from the end keeps each agent's newest.
    const kept = new Map<string, number>();
    const keep = (d: DiagnosticRecord): boolean => {
      if (d.receivedAt < diagCutoff) return false;
      const n = (kept.get(d.agentId) ?? 0) + 1;
      kept.set(d.agentId, n);
      return n <= (policy.diagnosticsPerAgent ?? Infinity);
    };
    const keeps = this.file.diagnostics.map(() => true);
    for (let i = this.file.diagnostics.length - 1; i >= 0; i--) keeps[i] = keep(this.file.diagnostics[i]!);
    const removed = this.file.diagnostics.filter((_, i) => !keeps[i]);
    if (removed.length > 0) {
      this.file.diagnostics = this.file.diagnostics.filter((_, i) => keeps[i]);
      for (const d of removed) this.diagnosticsById.delete(d.id);
    }
    return removed;
  }
}
