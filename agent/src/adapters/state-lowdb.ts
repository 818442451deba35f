import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import type { AgentState } from '../core/agent-state.js';
import { HISTORY_LIMIT, STATE_SCHEMA_VERSION, VERIFIED_CACHE_LIMIT, emptyAgentState } from '../core/agent-state.js';
import { DuckError } from '../../../schemas/errors.js';

export const STATE_FILE = 'state.json';

/** The agent state in one lowdb file; lowdb's steno writer renames a temp file, so a crash never leaves half a file. */
export interface StateStore {
  readonly file: string;
  read(): AgentState;
  update(change: (state: AgentState) => void): Promise<void>;
}

export async function openStateStore(stateDir: string): Promise<StateStore> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const file = join(stateDir, STATE_FILE);
  const db = new Low<AgentState>(new JSONFile<AgentState>(file), emptyAgentState());
  try {
    await db.read();
  } catch (err) {
    throw new DuckError('io', `${file}: unreadable agent state (${(err as Error).message})`, { file }, 'stalled', { cause: err });
  }
  db.data = migrate(db.data, file);
  return {
    file,
    read: () => db.data,
    update: async (change) => {
      change(db.data);
      trimVerified(db.data);
      if (db.data.history.length > HISTORY_LIMIT) db.data.history.splice(0, db.data.history.length - HISTORY_LIMIT);
      await db.write();
    },
  };
}

function migrate(data: AgentState | null, file: string): AgentState {
  if (!data) return emptyAgentState();
  const version = (data as Partial<AgentState>).schemaVersion;
  if (version === STATE_SCHEMA_VERSION) return { ...emptyAgentState(), ...data };
  throw new DuckError('io', `${file}: state schema version ${String(version)} is not one this agent reads (${STATE_SCHEMA_VERSION})`, {
    file,
    field: '/schemaVersion',
  });
}

function trimVerified(state: AgentState): void {
  const entries = Object.keys(state.channel.verified);
  if (entries.length <= VERIFIED_CACHE_LIMIT) return;
  for (const oid of entries.slice(0, entries.length - VERIFIED_CACHE_LIMIT)) delete state.channel.verified[oid];
}
