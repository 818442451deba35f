// The agent's durable state as tests make it: a node that never ran, then only what a test is
// about (an installed app, a failed version, a history line, a refusal). The state file is read and
// written where the agent keeps it, so a test can set a node up before the agent first runs.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentState, ChannelRefusal, FailedVersion, HistoryEntry, InstalledApp } from '../../agent/src/core/agent-state.js';
import { emptyAgentState } from '../../agent/src/core/agent-state.js';

/** The time the builders stamp on what they make, unless a test says otherwise. */
export const BUILT_AT = '2026-11-01T00:00:00.000Z';
/** The commit builders record an installed app or a failure as read from. */
export const BUILT_COMMIT = 'a'.repeat(40);

/** The state of a node that never ran, with `over` in place of its parts. */
export function agentState(over: Partial<AgentState> = {}): AgentState {
  return { ...emptyAgentState(), ...over };
}

/** An app running `version`, reversible, installed without a backup before it. */
export function installedApp(version: string, over: Partial<InstalledApp> = {}): InstalledApp {
  return { version, commit: BUILT_COMMIT, since: BUILT_AT, migrations: 'reversible', backupBeforeInstall: null, ...over };
}

/** `version` failed here once, health being the reason. */
export function failedVersion(version: string, over: Partial<FailedVersion> = {}): FailedVersion {
  return { version, commit: BUILT_COMMIT, at: BUILT_AT, reason: 'unhealthy', ...over };
}

/** shop applied from 1.2.0 to 1.3.0 inside its window. */
export function historyEntry(over: Partial<HistoryEntry> = {}): HistoryEntry {
  return { id: 'h-1', at: BUILT_AT, app: 'shop', from: '1.2.0', to: '1.3.0', outcome: 'applied', reason: 'in window', ...over };
}

/** An unsigned channel tip the agent refused. */
export function channelRefusal(over: Partial<ChannelRefusal> = {}): ChannelRefusal {
  return { tip: 'b'.repeat(40), reason: 'unsigned', message: 'no signature', at: BUILT_AT, ...over };
}

function stateFile(stateDir: string): string {
  return join(stateDir, 'state.json');
}

/** The state as the agent last wrote it under `stateDir`. */
export async function readAgentState(stateDir: string): Promise<AgentState> {
  return JSON.parse(await readFile(stateFile(stateDir), 'utf8')) as AgentState;
}

/** Writes `state` where the agent reads it (a node in that situation before the agent runs). */
export async function writeAgentState(stateDir: string, state: AgentState): Promise<void> {
  await mkdir(stateDir, { recursive: true });
  await writeFile(stateFile(stateDir), JSON.stringify(state, null, 2));
}
