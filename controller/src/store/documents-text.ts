// fleet.json's text, built without one long stall of the event loop: each agent's record is
// serialized ahead, a chunk at a time with the event loop running between chunks, and only the
// records changed since are serialized at the moment the documents are taken (which must be one
// moment: the counts and the records agree only there), and encoded a chunk at a time as the file
// is written. The store calls forget() on every change to an agent's record. Serializing and
// encoding the whole fleet at once stalled a controller of 50,000 agents for about a second.
import type { AgentEntry, FleetFile } from './fleet-data.js';
import { DOCUMENTS_FORMAT, type FleetDocuments } from './fleet-log.js';

export class DocumentsText {
  private readonly records = new Map<string, string>();

  /** The agent's record changed: its text is made again. */
  forget(agentId: string): void {
    this.records.delete(agentId);
  }

  private record(entry: AgentEntry): string {
    let text = this.records.get(entry.agentId);
    if (text === undefined) {
      const { events: _, ...record } = entry;
      text = JSON.stringify(record);
      this.records.set(entry.agentId, text);
    }
    return text;
  }

  /** Serializes the records not serialized yet, `chunk` agents at a time. */
  async prepare(agents: readonly AgentEntry[], chunk: number): Promise<void> {
    for (let i = 0; i < agents.length; i += chunk) {
      const end = Math.min(agents.length, i + chunk);
      for (let k = i; k < end; k++) this.record(agents[k]!);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /**
   * The documents as they are now, up to change `seq`, naming `log`: taken at once, encoded later a
   * chunk at a time as they are written (one 40 MB string, built and encoded at once, stalls as
   * long as serializing it did). The prepared texts are let go.
   */
  take(file: FleetFile, seq: number, log: string, chunk: number): AsyncIterable<Buffer> {
    const { format: _, agents, ...rest } = file;
    const head: Omit<FleetDocuments, 'agents'> = { ...rest, format: DOCUMENTS_FORMAT, seq, log };
    const texts = agents.map((a) => this.record(a));
    this.records.clear();
    return encode(`${JSON.stringify(head).slice(0, -1)},"agents":[`, texts, chunk);
  }
}

async function* encode(head: string, records: readonly string[], chunk: number): AsyncGenerator<Buffer> {
  yield Buffer.from(head, 'utf8');
  for (let i = 0; i < records.length; i += chunk) {
    yield Buffer.from(`${i === 0 ? '' : ','}${records.slice(i, i + chunk).join(',')}`, 'utf8');
  }
  yield Buffer.from(']}', 'utf8');
}
