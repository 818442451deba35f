// The default FleetStore: the whole fleet in one JSON file under --data, written by lowdb's steno
// writer (a temp file renamed over the old one, so a crash never leaves half a file). Mutations
// apply in memory at once; GroupCommit turns every burst of them into one write, and each
// mutating call resolves after the write that holds its change.
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Low } from 'lowdb';
import { DataFile } from 'lowdb/node';
import type { NodeFacts, ReportMessage } from '../../../schemas/index.js';
import { FLEET_FILE_FORMAT, FleetData, emptyFleetFile, type FleetFile } from './fleet-data.js';
import { StoreOpenError } from './fleet-store.js';
import type {
  AgentPage,
  AgentRecord,
  AlertRecord,
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

/** The parsed content of a fleet file, checked enough to use; a StoreOpenError naming the file and field otherwise. */
export function checkShape(value: unknown, file: string): FleetFile {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new StoreOpenError(file, 'not a duck-controller data file (expected a JSON object)');
  }
  const data = value as Partial<FleetFile>;
  if (data.format !== FLEET_FILE_FORMAT) {
    throw new StoreOpenError(file, `data format ${JSON.stringify(data.format)} is not one this controller reads (${FLEET_FILE_FORMAT})`);
  }
  for (const key of ['agents', 'diagnostics', 'outcomes', 'recentFailures', 'alerts'] as const) {
    if (!Array.isArray(data[key])) throw new StoreOpenError(file, `/${key} must be an array`);
  }
  return data as FleetFile;
}

/** An agent's record without its event list, which stays inside the store. */
function publicRecord(entry: AgentRecord): AgentRecord {
  const { agentId, tokenHash, facts, enrolledAt, lastSeenAt, status, lastOutcomes } = entry;
  return { agentId, tokenHash, facts, enrolledAt, lastSeenAt, status, lastOutcomes };
}

export class LowdbFleetStore implements FleetStore {
  private closed = false;
  private readonly listing = new SortedIds();

  private constructor(
    readonly location: string,
    private readonly data: FleetData,
    private readonly commits: GroupCommit,
    private readonly health: { writeFailed: boolean },
  ) {}

  static async open(dataDir: string, opts: { maxEventsPerAgent?: number } = {}): Promise<LowdbFleetStore> {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    const file = join(dataDir, FLEET_FILE);
    // Compact JSON: the file is for the controller, and pretty-printing doubles the write cost.
    const adapter = new DataFile<FleetFile>(file, { parse: (text) => JSON.parse(text) as FleetFile, stringify: (d) => JSON.stringify(d) });
    const db = new Low<FleetFile>(adapter, emptyFleetFile());
    const fresh = !(await stat(file).then(
      () => true,
      () => false,
    ));
    let loaded: FleetFile | null = null;
    try {
      loaded = await adapter.read();
    } catch (err) {
      throw new StoreOpenError(file, `unreadable or corrupt (${(err as Error).message}); move it away or restore a backup`, { cause: err });
    }
    // An existing file that reads as nothing ("null") is corrupt too: never start over on top of it.
    if (!fresh && loaded === null) throw new StoreOpenError(file, 'holds no fleet data; move it away or restore a backup');
    const data = new FleetData(checkShape(loaded ?? emptyFleetFile(), file), opts.maxEventsPerAgent);
    db.data = data.file;
    const health = { writeFailed: false };
    const commits = new GroupCommit(async () => {
      try {
        // prune() may replace arrays, so always write the current document.
        db.data = data.file;
        await db.write();
        health.writeFailed = false;
      } catch (err) {
        health.writeFailed = true;
        throw err;
      }
    });
    // A new data directory gets its file at once: an unwritable --data fails the start, not the first report.
    if (fresh) await commits.commit();
    return new LowdbFleetStore(file, data, commits, health);
  }

  private async persist<T>(value: T): Promise<T> {
    if (this.closed) throw new Error(`${this.location}: the store is closed`);
    await this.commits.commit();
    return value;
  }

  async register(agentId: string, facts: NodeFacts, tokenHash: string, now: Date, opts: { onlyNew?: boolean } = {}): Promise<AgentRecord | null> {
    const entry = this.data.register(agentId, facts, tokenHash, now, opts);
    return entry === null ? null : publicRecord(await this.persist(entry));
  }

  async releaseEnrollment(agentId: string): Promise<boolean> {
    return this.data.releaseEnrollment(agentId) && this.persist(true);
  }

  async agentIdForTokenHash(tokenHash: string): Promise<string | null> {
    return this.data.agentIdForTokenHash(tokenHash);
  }

  async recordReport(report: ReportMessage, receivedAt: Date): Promise<ReportResult> {
    return this.persist(this.data.applyReport(report, receivedAt));
  }

  async recordAlert(alert: AlertRecord): Promise<boolean> {
    if (!this.data.addAlert(alert)) return false;
    return this.persist(true);
  }

  async addDiagnostic(record: DiagnosticRecord): Promise<void> {
    this.data.addDiagnostic(record);
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
    const result = this.data.prune(now, policy);
    if (result.events === 0 && result.diagnostics.length === 0) return result;
    return this.persist(result);
  }

  healthy(): boolean {
    return !this.health.writeFailed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.commits.idle();
    this.closed = true;
  }
}
