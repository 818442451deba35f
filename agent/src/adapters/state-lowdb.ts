import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { freeze, produce } from 'immer';
import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import { DuckError } from '../../../schemas/errors.js';
import type { AgentState } from '../core/agent-state.js';
import { HISTORY_LIMIT, STATE_SCHEMA_VERSION, VERIFIED_CACHE_LIMIT, emptyAgentState } from '../core/agent-state.js';
import type { StateSnapshot, StateStore } from '../ports.js';

export const STATE_FILE = 'state.json';

/**
 * The agent state in one lowdb file; lowdb's steno writer renames a temp file, so a crash never
 * leaves half a file. Each update produces a new frozen snapshot with immer (unchanged parts are
 * shared, so a small write costs little however large the state is); the snapshot becomes the
 * one `read()` returns only once it is on disk.
 */
export async function openStateStore(stateDir: string): Promise<StateStore> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const file = join(stateDir, STATE_FILE);
  const db = new Low<StateSnapshot>(new JSONFile<StateSnapshot>(file), emptyAgentState());
  try {
    await db.read();
  } catch (err) {
    throw new DuckError('io', `${file}: unreadable agent state (${(err as Error).message})`, { file }, 'stalled', { cause: err });
  }
  let current: StateSnapshot = freeze(migrate(db.data as AgentState | null, file), true);
  // One write at a time, in call order: a later update builds on the snapshot the earlier one wrote.
  let queue: Promise<unknown> = Promise.resolve();
  return {
    file,
    read: () => current,
    update: (change) => {
      const write = queue.then(async () => {
        const next = produce(current, (draft: AgentState) => {
          change(draft);
          trimVerified(draft);
          if (draft.history.length > HISTORY_LIMIT) draft.history.splice(0, draft.history.length - HISTORY_LIMIT);
        });
        db.data = next;
        await db.write();
        current = next;
        return next;
      });
      queue = write.catch(() => undefined);
      return write;
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
