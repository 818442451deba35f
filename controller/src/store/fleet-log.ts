// What the embedded store's log holds, and how a line is replayed into FleetData. Every change is
// one numbered line (`s`): the small documents (fleet.json) say up to which number they hold the
// change's counts, so replay folds only the lines after it and, from the lines before it, puts
// back the events alone (the bulk of the fleet, never in fleet.json). Compaction writes each
// agent's kept events as one `events` line. No I/O here.
import type { NodeFacts, ReportMessage } from '../../../schemas/index.js';
import type { FleetData, FleetFile } from './fleet-data.js';
import { StoreOpenError, type AgentRecord, type AlertRecord, type DiagnosticRecord, type RetentionPolicy, type StoredEvent } from './fleet-store.js';

export type LogEntry =
  | { s: number; k: 'enroll'; id: string; facts: NodeFacts; hash: string; at: string }
  | { s: number; k: 'release'; id: string }
  /** The report with the events that were new to the store, received at `at`. */
  | { s: number; k: 'report'; at: string; r: ReportMessage }
  | { s: number; k: 'alert'; alert: AlertRecord }
  | { s: number; k: 'diagnostic'; d: DiagnosticRecord }
  | { s: number; k: 'prune'; at: string; policy: RetentionPolicy }
  /** An agent's kept events, oldest first, written by compaction. */
  | { s: number; k: 'events'; id: string; events: StoredEvent[] };

type WithoutNumber<E> = E extends unknown ? Omit<E, 's'> : never;
/** A line before it gets its number. */
export type LogEntryBody = WithoutNumber<LogEntry>;

const KINDS: ReadonlySet<string> = new Set(['enroll', 'release', 'report', 'alert', 'diagnostic', 'prune', 'events']);

/** One log line (with its newline). */
export function logLine(entry: LogEntry): string {
  return `${JSON.stringify(entry)}\n`;
}

/** A parsed line, checked enough to replay; a StoreOpenError naming the file, line and field otherwise. */
export function checkEntry(value: unknown, file: string, line: number): LogEntry {
  const entry = value as Partial<LogEntry> | null;
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new StoreOpenError(file, `line ${line}: expected a JSON object`);
  if (typeof entry.s !== 'number') throw new StoreOpenError(file, `line ${line}: /s must be a number`);
  if (typeof entry.k !== 'string' || !KINDS.has(entry.k)) throw new StoreOpenError(file, `line ${line}: /k ${JSON.stringify(entry.k)} is not a kind of change this controller knows`);
  return entry as LogEntry;
}

/** Replays one line: folded in full after `documentsSeq`, only its events at or before it. */
export function replayEntry(data: FleetData, entry: LogEntry, documentsSeq: number): void {
  const folded = entry.s <= documentsSeq;
  switch (entry.k) {
    case 'events':
      data.restoreEvents(entry.id, entry.events);
      return;
    case 'report':
      if (folded) data.restoreEvents(entry.r.agentId, entry.r.events.map((e) => ({ ...e, receivedAt: entry.at })));
      else data.applyReport(entry.r, new Date(entry.at));
      return;
    case 'prune':
      if (folded) data.pruneEvents(new Date(entry.at), entry.policy.eventRetentionMs);
      else data.prune(new Date(entry.at), entry.policy);
      return;
  }
  if (folded) return;
  switch (entry.k) {
    case 'enroll':
      data.register(entry.id, entry.facts, entry.hash, new Date(entry.at));
      return;
    case 'release':
      data.releaseEnrollment(entry.id);
      return;
    case 'alert':
      data.addAlert(entry.alert);
      return;
    case 'diagnostic':
      data.addDiagnostic(entry.d);
      return;
  }
}

export const DOCUMENTS_FORMAT = 2;

/** fleet.json from format 2 on: everything but the events, and where the log takes over. */
export interface FleetDocuments extends Omit<FleetFile, 'format' | 'agents'> {
  format: typeof DOCUMENTS_FORMAT;
  /** The last log line whose change these documents hold. */
  seq: number;
  /** The log file (in the same directory) with the events and the changes after `seq`. */
  log: string;
  agents: AgentRecord[];
}

/** The compacted log's lines: each agent's kept events (agents without any write none). */
export function* eventLines(agents: Iterable<readonly [string, readonly StoredEvent[]]>, seq: number): Generator<string> {
  for (const [id, events] of agents) if (events.length > 0) yield logLine({ s: seq, k: 'events', id, events: events as StoredEvent[] });
}
