// What the daemon does for its own build's updates (DESIGN §4.7): it writes the heartbeat a
// self-update's health wait looks for, after a full cycle — a poll, a verified channel, a Docker
// ping; the first of each process at once, the same again at most once a minute — and, as the state's writer, folds in what an updater that ended left in its journal.
import { toDuckError } from '../../../schemas/errors.js';
import { foldUpdateOutcome, heartbeatNeedsRecord } from '../core/agent-update.js';
import type { Logger } from '../ports.js';
import { isAlive } from '../adapters/instance-lock.js';
import { readJournal } from '../self-update/journal-file.js';
import { serviceManagerFor } from './self-update.js';
import type { CycleOutcome } from './cycle.js';
import { runningBuild } from './agent-decision.js';
import type { NodeParts } from './wiring.js';

/** After a cycle that polled: a heartbeat when the channel was verified and Docker answers. */
export async function heartbeat(node: NodeParts, outcome: CycleOutcome, polled: boolean, log: Logger): Promise<void> {
  if (!polled || outcome.refusal !== null || outcome.unreachable !== null) return;
  try {
    await node.docker.version();
  } catch (err) {
    log('heartbeat-skipped', { reason: `no Docker ping: ${toDuckError(err).message}` });
    return;
  }
  const build = runningBuild();
  const at = node.clock().toISOString();
  const beat = { version: build.version, buildCommit: build.commit, pid: process.pid, at, channelCommit: outcome.commit, dockerPingAt: at };
  if (!heartbeatNeedsRecord(node.state.read().agentBuild.heartbeat, beat)) return;
  await node.state.update((draft) => {
    draft.agentBuild.heartbeat = beat;
  });
}

/** Folds an ended self-update's outcome into agentBuild.failed (once: folding again changes nothing). */
export async function foldSelfUpdate(node: NodeParts, log: Logger): Promise<void> {
  let journal;
  try {
    journal = await readJournal(node.config.stateDir);
  } catch (err) {
    log('self-update-journal-unreadable', { message: toDuckError(err).message });
    return;
  }
  if (journal === null || journal.outcome === 'running') return;
  let changed = false;
  // A read first: the daemon's idle cycles write nothing when there is nothing new.
  const probe = structuredClone({ failed: { ...node.state.read().agentBuild.failed }, heartbeat: null });
  if (!foldUpdateOutcome(probe, journal)) return;
  await node.state.update((draft) => {
    changed = foldUpdateOutcome(draft.agentBuild, journal);
  });
  if (changed) log('self-update-recorded', { to: journal.to, outcome: journal.outcome, reason: journal.reason });
}

/**
 * At the daemon's start: a self-update whose updater is gone (a power cut, a kill between the
 * switch and the health wait) is handed to a new updater, outside this daemon's service, whichever
 * build this daemon is. It finishes it: waits for this daemon's heartbeat, or switches back.
 */
export async function resumeInterruptedUpdate(node: NodeParts, log: Logger): Promise<void> {
  const journal = await readJournal(node.config.stateDir).catch(() => null);
  if (journal === null || journal.outcome !== 'running' || isAlive(journal.updaterPid)) return;
  log('self-update-interrupted', { step: journal.step, from: journal.from, to: journal.to, updaterPid: journal.updaterPid });
  try {
    await serviceManagerFor(node.config).startUpdater(['self-update', '--resume', '--yes']);
  } catch (err) {
    log('self-update-resume-failed', { message: toDuckError(err).message });
  }
}
