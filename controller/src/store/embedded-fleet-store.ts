// The default FleetStore, under --data: the fleet in memory (FleetData and its indexes), kept on
// disk as small documents (fleet.json: agents' records, counts, failures, alerts, diagnostics) plus
// an append-only log of every change since (events-<n>.log, one JSON line per change, fleet-log.ts).
// Mutations apply in memory at once and queue their line; GroupCommit turns every burst of them
// into one append and one fsync, and each mutating call resolves after the write that holds its
// line. Nothing on the request path serializes the whole fleet: that happens only in compaction,
// which runs beside the appends when the log has grown (and at the first start on a format-1
// fleet.json, which held the events too): it writes the kept events to a new log, copies over what
// was appended meanwhile, then renames new documents naming that log over fleet.json.
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { NodeFacts, ReportMessage } from '../../../schemas/index.js';
import { DirectAlertDispatch } from '../alert-dispatch.js';
import type { Log } from '../log.js';
import { MemorySessionStore } from '../sessions.js';
import { AppendLog, readLog, syncDirectory, writeBeside, writeFileAtomic } from './append-log.js';
import { DocumentsText } from './documents-text.js';
import { FLEET_FILE_FORMAT, FleetData, emptyFleetFile, type FleetFile } from './fleet-data.js';
import { DOCUMENTS_FORMAT, checkEntry, eventLines, logLine, replayEntry, type FleetDocuments, type LogEntry, type LogEntryBody } from './fleet-log.js';
import { StoreOpenError } from './fleet-store.js';
import type {
  AgentPage,
  AgentRecord,
  AlertDispatch,
  AlertRecord,
  AlertSend,
  DiagnosticRecord,
  FailureRecord,
  FleetStore,
  OutcomeCounts,
  PruneResult,
  ReportResult,
  RetentionPolicy,
  StoredEvent,
} from './fleet-store.js';
import { GroupCommit } from './group-commit.js';
import { SortedIds } from './sorted-ids.js';

export const FLEET_FILE = 'fleet.json';
const LOG_NAME = /^events-(\d+)\.log$/;
const logName = (generation: number): string => `events-${generation}.log`;
/** Growth of the log past its compacted size that starts a compaction (at least this, at least that size again). */
export const COMPACT_AFTER_BYTES = 64 * 1024 * 1024;
/** Agents per chunk of a compaction's write: the event loop runs between chunks. */
const COMPACT_CHUNK = 250;

/** The parsed content of a fleet file (either format), checked enough to use; a StoreOpenError naming the file and field otherwise. */
export function checkShape(value: unknown, file: string): FleetFile | FleetDocuments {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new StoreOpenError(file, 'not a duck-controller data file (expected a JSON object)');
  }
  const data = value as Partial<FleetFile | FleetDocuments>;
  if (data.format !== FLEET_FILE_FORMAT && data.format !== DOCUMENTS_FORMAT) {
    throw new StoreOpenError(file, `data format ${JSON.stringify(data.format)} is not one this controller reads (${FLEET_FILE_FORMAT} or ${DOCUMENTS_FORMAT})`);
  }
  for (const key of ['agents', 'diagnostics', 'outcomes', 'recentFailures', 'alerts'] as const) {
    if (!Array.isArray(data[key])) throw new StoreOpenError(file, `/${key} must be an array`);
  }
  if (data.format === DOCUMENTS_FORMAT) {
    if (typeof data.seq !== 'number') throw new StoreOpenError(file, '/seq must be a number');
    if (typeof data.log !== 'string' || !LOG_NAME.test(data.log)) throw new StoreOpenError(file, `/log must name an events-<n>.log file, got ${JSON.stringify(data.log)}`);
  }
  return data as FleetFile | FleetDocuments;
}

/** A data directory read into memory. */
export interface LoadedFleet {
  data: FleetData;
  /** The last change's number. */
  seq: number;
  /** The log's file name and size, or null for a format-1 fleet.json (no log yet). */
  log: { name: string; size: number } | null;
}

export interface LoadOptions {
  maxEventsPerAgent?: number;
  /** Cut a torn last line off the log (the store does; a reader such as migrate-store only skips it). */
  repair?: boolean;
  warn?: (message: string) => void;
}

const warnOnStderr = (message: string): void => void process.stderr.write(`duck-controller: ${message}\n`);

/** Reads fleet.json and replays the log it names. Throws ENOENT when there is no fleet.json. */
export async function loadFleetDir(dataDir: string, opts: LoadOptions = {}): Promise<LoadedFleet> {
  const file = join(dataDir, FLEET_FILE);
  const text = await open(file, 'r').then(async (handle) => {
    try {
      return await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new StoreOpenError(file, `unreadable or corrupt (${(err as Error).message}); move it away or restore a backup`, { cause: err });
  }
  // An existing file that reads as nothing ("null") is corrupt too: never start over on top of it.
  if (parsed === null) throw new StoreOpenError(file, 'holds no fleet data; move it away or restore a backup');
  const shaped = checkShape(parsed, file);
  if (shaped.format === FLEET_FILE_FORMAT) return { data: new FleetData(shaped, opts.maxEventsPerAgent), seq: 0, log: null };
  const { seq, log, format: _, agents, ...rest } = shaped;
  const data = new FleetData({ ...rest, format: FLEET_FILE_FORMAT, agents: agents.map((a) => ({ ...a, events: [] })) }, opts.maxEventsPerAgent);
  const logFile = join(dataDir, log);
  const read = await readLog(logFile, { repair: opts.repair ?? false, warn: opts.warn ?? warnOnStderr }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw new StoreOpenError(logFile, `missing: ${file} names it as its log; restore it from a backup`, { cause: err });
    throw err;
  });
  let last = seq;
  read.entries.forEach((value, i) => {
    const entry = checkEntry(value, logFile, i + 1);
    try {
      replayEntry(data, entry, seq);
    } catch (err) {
      throw new StoreOpenError(logFile, `line ${i + 1} cannot be replayed (${(err as Error).message})`, { cause: err });
    }
    last = Math.max(last, entry.s);
  });
  return { data, seq: last, log: { name: log, size: read.size } };
}

/** Which version of the data a directory holds: any write of a store serving on it changes it. */
export async function dataVersion(dataDir: string): Promise<string> {
  const names = [FLEET_FILE, ...(await readdir(dataDir).catch(() => [])).filter((n) => LOG_NAME.test(n)).sort()];
  const parts = await Promise.all(names.map((n) => stat(join(dataDir, n)).then((s) => `${n}:${s.ino}:${s.size}:${s.mtimeMs}`, () => `${n}:none`)));
  return parts.join(',');
}

/** An agent's record without its event list, which stays inside the store. */
function publicRecord(entry: AgentRecord): AgentRecord {
  const { agentId, tokenHash, facts, enrolledAt, lastSeenAt, status, lastOutcomes } = entry;
  return { agentId, tokenHash, facts, enrolledAt, lastSeenAt, status, lastOutcomes };
}

export interface EmbeddedStoreOptions {
  maxEventsPerAgent?: number;
  /** Where a repaired torn line or a failed compaction is told; stderr by default. */
  warn?: (message: string) => void;
  /** See COMPACT_AFTER_BYTES (tests set it low). */
  compactAfterBytes?: number;
}

export class EmbeddedFleetStore implements FleetStore {
  private closed = false;
  private readonly listing = new SortedIds();
  /** One controller serves this directory, so its sessions can live in its memory. */
  readonly sessions = new MemorySessionStore();
  /** Lines of changes applied in memory and not yet appended, in change order. */
  private pending: string[] = [];
  /** The write slot: appends and a compaction's switch-over run one at a time. */
  private slot: Promise<unknown> = Promise.resolve();
  private compacting: Promise<void> | null = null;
  private compactAt: number;
  private readonly commits: GroupCommit;
  private writeFailed = false;
  private readonly documents = new DocumentsText();

  private constructor(
    private readonly dataDir: string,
    private readonly data: FleetData,
    private seq: number,
    private log: AppendLog,
    private generation: number,
    private readonly opts: Required<Omit<EmbeddedStoreOptions, 'maxEventsPerAgent'>>,
  ) {
    this.compactAt = this.nextCompaction(log.size);
    this.commits = new GroupCommit(() => this.exclusive(() => this.appendPending()));
  }

  get location(): string {
    return join(this.dataDir, FLEET_FILE);
  }

  static async open(dataDir: string, opts: EmbeddedStoreOptions = {}): Promise<EmbeddedFleetStore> {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    const settings = { warn: opts.warn ?? warnOnStderr, compactAfterBytes: opts.compactAfterBytes ?? COMPACT_AFTER_BYTES };
    const fresh = !(await stat(join(dataDir, FLEET_FILE)).then(
      () => true,
      () => false,
    ));
    const logs = (await readdir(dataDir)).filter((n) => LOG_NAME.test(n));
    if (fresh && logs.length > 0) {
      throw new StoreOpenError(join(dataDir, FLEET_FILE), `missing, but ${logs.join(', ')} is there: restore fleet.json from a backup, or move the logs away to start an empty fleet`);
    }
    const loaded = fresh ? { data: new FleetData(emptyFleetFile(), opts.maxEventsPerAgent), seq: 0, log: null } : await loadFleetDir(dataDir, { ...opts, repair: true, warn: settings.warn });
    if (loaded.log === null) {
      // A new directory gets its files at once (an unwritable --data fails the start, not the first
      // report); a format-1 fleet.json is moved to documents and a log the same way compaction does.
      const name = logName(1);
      const size = await writeCompacted(dataDir, name, loaded.data, loaded.seq);
      if (!fresh) settings.warn(`${join(dataDir, FLEET_FILE)}: moved to the small-documents format ${DOCUMENTS_FORMAT} with the events in ${name}`);
      return new EmbeddedFleetStore(dataDir, loaded.data, loaded.seq, await AppendLog.open(join(dataDir, name), size), 1, settings);
    }
    await removeLeftovers(dataDir, loaded.log.name);
    const generation = Number(LOG_NAME.exec(loaded.log.name)![1]);
    return new EmbeddedFleetStore(dataDir, loaded.data, loaded.seq, await AppendLog.open(join(dataDir, loaded.log.name), loaded.log.size), generation, settings);
  }

  private nextCompaction(compactedSize: number): number {
    return compactedSize + Math.max(this.opts.compactAfterBytes, compactedSize);
  }

  private exclusive<T>(step: () => Promise<T>): Promise<T> {
    const run = this.slot.then(step, step);
    this.slot = run.catch(() => undefined);
    return run;
  }

  /** Queues a change's line; the caller then waits for persist(). */
  private record(body: LogEntryBody): void {
    this.pending.push(logLine({ s: ++this.seq, ...body } as LogEntry));
  }

  private async appendPending(): Promise<void> {
    if (this.pending.length === 0) return;
    const count = this.pending.length;
    try {
      await this.log.append(this.pending.slice(0, count).join(''));
      this.writeFailed = false;
    } catch (err) {
      this.writeFailed = true;
      throw err;
    }
    // Lines queued during the append stay for the next one.
    this.pending.splice(0, count);
    if (this.log.size >= this.compactAt && !this.compacting && !this.closed) void this.compact().catch((err: unknown) => this.opts.warn(`compaction of ${this.log.file} failed, the log goes on growing: ${(err as Error).message}`));
  }

  private async persist<T>(value: T): Promise<T> {
    await this.commits.commit();
    return value;
  }

  private refuseClosed(): void {
    if (this.closed) throw new Error(`${this.location}: the store is closed`);
  }

  /**
   * Rewrites the log with each agent's kept events only and fleet.json with the counts up to now,
   * beside the appends (they wait only while the lines appended meanwhile are copied over).
   * Resolves when the new files are in place.
   */
  compact(): Promise<void> {
    this.compacting ??= this.compactNow().finally(() => {
      this.compacting = null;
    });
    return this.compacting;
  }

  private async compactNow(): Promise<void> {
    const next = this.generation + 1;
    const name = logName(next);
    await this.documents.prepare(this.data.file.agents, COMPACT_CHUNK);
    // Taken at once, between two changes: the documents hold every change up to `seq`.
    const seq = this.seq;
    const documents = this.documents.take(this.data.file, seq, name, COMPACT_CHUNK);
    const events = this.data.file.agents.map((a) => [a.agentId, a.events.slice()] as const);
    const from = this.log;
    const copiedFrom = from.size;
    const file = join(this.dataDir, name);
    const handle = await open(file, 'w', 0o600);
    let size = 0;
    try {
      for (let i = 0; i < events.length; i += COMPACT_CHUNK) {
        const chunk = Buffer.from([...eventLines(events.slice(i, i + COMPACT_CHUNK), seq)].join(''), 'utf8');
        await handle.write(chunk);
        size += chunk.length;
      }
      // Beside the appends too: inside the write slot, only the copy of what they added and the renames.
      const documentsFile = await writeBeside(join(this.dataDir, FLEET_FILE), documents);
      await this.exclusive(async () => {
        // What was appended since (and what is queued: its changes are in the documents or after them).
        await this.appendPending();
        const bytes = linesAfter(await readTail(from.file, copiedFrom, from.size), seq);
        await handle.write(bytes);
        size += bytes.length;
        await handle.sync();
        const nextLog = await AppendLog.open(file, size);
        try {
          // The switch: once fleet.json names the new log, every append must go there.
          await rename(documentsFile, join(this.dataDir, FLEET_FILE));
        } catch (err) {
          await nextLog.close();
          await rm(file, { force: true });
          await rm(documentsFile, { force: true });
          throw err;
        }
        this.log = nextLog;
        this.generation = next;
        this.compactAt = this.nextCompaction(size);
        await syncDirectory(this.dataDir);
        await from.close();
        await rm(from.file, { force: true });
      });
    } finally {
      await handle.close();
    }
  }

  async register(agentId: string, facts: NodeFacts, tokenHash: string, now: Date, opts: { onlyNew?: boolean } = {}): Promise<AgentRecord | null> {
    this.refuseClosed();
    const entry = this.data.register(agentId, facts, tokenHash, now, opts);
    if (entry === null) return null;
    this.documents.forget(agentId);
    this.record({ k: 'enroll', id: agentId, facts, hash: tokenHash, at: now.toISOString() });
    return publicRecord(await this.persist(entry));
  }

  async releaseEnrollment(agentId: string): Promise<boolean> {
    this.refuseClosed();
    if (!this.data.releaseEnrollment(agentId)) return false;
    this.documents.forget(agentId);
    this.record({ k: 'release', id: agentId });
    return this.persist(true);
  }

  async agentIdForTokenHash(tokenHash: string): Promise<string | null> {
    return this.data.agentIdForTokenHash(tokenHash);
  }

  async recordReport(report: ReportMessage, receivedAt: Date): Promise<ReportResult> {
    this.refuseClosed();
    const result = this.data.applyReport(report, receivedAt);
    this.documents.forget(report.agentId);
    // Only the new events: replaying the line folds exactly what this report folded.
    const accepted = new Set(result.acceptedIds);
    const fresh = report.events.filter((e) => accepted.delete(e.id));
    this.record({ k: 'report', at: receivedAt.toISOString(), r: { ...report, events: fresh } });
    return this.persist(result);
  }

  async recordAlert(alert: AlertRecord): Promise<boolean> {
    this.refuseClosed();
    if (!this.data.addAlert(alert)) return false;
    this.record({ k: 'alert', alert });
    return this.persist(true);
  }

  dispatchAlerts(send: AlertSend, log: Log): AlertDispatch {
    return new DirectAlertDispatch(send, log);
  }

  async addDiagnostic(record: DiagnosticRecord): Promise<void> {
    this.refuseClosed();
    this.data.addDiagnostic(record);
    this.record({ k: 'diagnostic', d: record });
    await this.persist(undefined);
  }

  async getAgent(agentId: string): Promise<AgentRecord | null> {
    const entry = this.data.agent(agentId);
    return entry ? publicRecord(entry) : null;
  }

  async listAgents(): Promise<readonly AgentRecord[]> {
    // The stored entries themselves, read-only by contract: copying 100,000 records per summary
    // would cost more than the summary.
    return this.data.file.agents;
  }

  async listAgentsPage(after: string | null, limit: number): Promise<AgentPage> {
    this.listing.sync(this.data.file.agents);
    const agents = this.listing.page(after, limit).map((id) => publicRecord(this.data.agent(id)!));
    return { agents, total: this.listing.size };
  }

  async events(agentId: string, limit: number): Promise<StoredEvent[]> {
    const events = this.data.agent(agentId)?.events ?? [];
    return events.slice(Math.max(0, events.length - limit)).reverse();
  }

  async diagnostics(agentId?: string): Promise<DiagnosticRecord[]> {
    const all = this.data.file.diagnostics;
    return (agentId === undefined ? [...all] : all.filter((d) => d.agentId === agentId)).reverse();
  }

  async getDiagnostic(id: string): Promise<DiagnosticRecord | null> {
    return this.data.diagnostic(id) ?? null;
  }

  async outcomes(): Promise<OutcomeCounts[]> {
    return this.data.file.outcomes.map(({ failedAgents: _, nodes, ...counts }) => ({ ...counts, nodes: { ...nodes } }));
  }

  async recentFailures(limit: number): Promise<FailureRecord[]> {
    return this.data.file.recentFailures.slice(-limit).reverse();
  }

  async alerts(): Promise<AlertRecord[]> {
    return [...this.data.file.alerts];
  }

  async prune(now: Date, policy: RetentionPolicy): Promise<PruneResult> {
    this.refuseClosed();
    const result = this.data.prune(now, policy);
    if (result.events === 0 && result.diagnostics.length === 0) return result;
    this.record({ k: 'prune', at: now.toISOString(), policy });
    return this.persist(result);
  }

  healthy(): boolean {
    return !this.writeFailed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.commits.idle();
    await this.compacting?.catch(() => undefined);
    await this.exclusive(() => this.log.close());
  }
}

/** Writes a new log with the fleet's events, then documents naming it: the first files of a directory, or of a format-1 one. */
async function writeCompacted(dataDir: string, name: string, data: FleetData, seq: number): Promise<number> {
  const text = [...eventLines(data.file.agents.map((a) => [a.agentId, a.events] as const), seq)].join('');
  await writeFileAtomic(join(dataDir, name), text);
  await writeFileAtomic(join(dataDir, FLEET_FILE), new DocumentsText().take(data.file, seq, name, COMPACT_CHUNK));
  return Buffer.byteLength(text);
}

/** The whole lines of `bytes` numbered after `seq`, as they are (every line starts `{"s":<number>,`). */
export function linesAfter(bytes: Buffer, seq: number): Buffer {
  const kept: Buffer[] = [];
  let start = 0;
  while (start < bytes.length) {
    const end = bytes.indexOf(0x0a, start);
    if (end === -1) break;
    const s = Number(bytes.toString('latin1', start + 5, bytes.indexOf(0x2c, start)));
    if (s > seq) kept.push(bytes.subarray(start, end + 1));
    start = end + 1;
  }
  return Buffer.concat(kept);
}

async function readTail(file: string, start: number, end: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(end - start);
    await handle.read(buffer, 0, buffer.length, start);
    return buffer;
  } finally {
    await handle.close();
  }
}

/** What a stop left behind: a compaction's new log that fleet.json never came to name, a temp file. */
async function removeLeftovers(dataDir: string, current: string): Promise<void> {
  for (const name of await readdir(dataDir)) {
    if ((LOG_NAME.test(name) && name !== current) || (name.startsWith('.') && name.endsWith('.tmp'))) await rm(join(dataDir, name), { force: true });
  }
}
