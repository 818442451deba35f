// The proof a new build is healthy (DESIGN §4.7): its daemon's heartbeat in the state file, of the
// new version and newer than the switch, written after one full cycle (poll, verified channel,
// Docker ping). Read from the file: the updater is not the state's writer.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentHeartbeat } from '../core/agent-build.js';
import { STATE_FILE } from '../adapters/state-lowdb.js';

export async function readHeartbeat(stateDir: string): Promise<AgentHeartbeat | null> {
  try {
    const state = JSON.parse(await readFile(join(stateDir, STATE_FILE), 'utf8')) as { agentBuild?: { heartbeat?: AgentHeartbeat | null } };
    return state.agentBuild?.heartbeat ?? null;
  } catch {
    // Not there yet, or caught between writes (lowdb renames, so this is rare): read again.
    return null;
  }
}

export function provesHealth(heartbeat: AgentHeartbeat | null, version: string, switchedAt: string): boolean {
  return heartbeat !== null && heartbeat.version === version && Date.parse(heartbeat.at) > Date.parse(switchedAt);
}

/** Waits for the heartbeat until `deadline`; true when it came. */
export async function waitForHealth(opts: { stateDir: string; version: string; switchedAt: string; deadline: string; now: () => Date; pollMs?: number }): Promise<boolean> {
  for (;;) {
    if (provesHealth(await readHeartbeat(opts.stateDir), opts.version, opts.switchedAt)) return true;
    if (opts.now().getTime() >= Date.parse(opts.deadline)) return false;
    await sleep(opts.pollMs ?? 500);
  }
}
