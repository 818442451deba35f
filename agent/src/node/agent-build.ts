// What the daemon does for its own build's updates (DESIGN §4.7): it writes the heartbeat a
// self-update's health wait looks for, after a full cycle — a poll, a verified channel, a Docker
// ping; once per process, build and accepted commit — and, as the state's writer, folds in what an
// updater that ended left in its journal.
import { toDuckError } from '../../../schemas/errors.js';
import type { UpdateJournal } from '../core/agent-update.js';
import { foldUpdateOutcome, heartbeatNeedsRecord } from '../core/agent-update.js';
import type { Logger } from '../ports.js';
import { isAlive } from '../adapters/instance-lock.js';
import { readJournal } from '../self-update/journal-file.js';
import { eventOfUpdate } from '../report/events.js';
import { queueEvents } from '../report/outbox.js';
import { serviceManagerFor } from './self-update.js';
import type { CycleOutcome } from './cycle.js';
import { runningBuild } from './agent-decision.js';
import type { NodeParts } from './wiring.js';

/** After a cycle that polled: a heartbeat when the channel was verified and Docker answers. */
export async function heartbeat(node: NodeParts, outcome: CycleOutcome, polled: boolean, log: Logger): Promise<void> {
  if (!polled || outcome.refusal !== null || outcome.unreachable !== null) return;
  const build = runningBuild();
  const beat = { version: build.version, buildCommit: build.commit, pid: process.pid, channelCommit: outcome.commit };
  if (!heartbeatNeedsRecord(node.state.read().agentBuild.heartbeat, beat)) return;
  try {
    await node.docker.version();
  } catch (err) {
    log('heartbeat-skipped', { reason: `no Docker ping: ${toDuckError(err).message}` });
    return;
  }
  const at = node.clock().toISOString();
  await node.state.update((draft) => {
    draft.agentBuild.heartbeat = { ...beat, at, dockerPingAt: at };
  });
}

/**
 * The updater's journal as one daemon cycle sees it: read once, for the fold before the cycle and
 * the updater's start after it. An unreadable journal is logged and counts as none.
 */
export async function cycleJournal(node: NodeParts, log: Logger): Promise<UpdateJournal | null> {
  try {
    return await readJournal(node.config.stateDir);
  } catch (err) {
    log('self-update-journal-unreadable', { message: toDuckError(err).message });
    return null;
  }
}

/** Folds an ended self-update's outcome into agentBuild.failed (once: folding again changes nothing). */
export async function foldSelfUpdate(node: NodeParts, journal: UpdateJournal | null, log: Logger): Promise<void> {
  if (journal === null || journal.outcome === 'running') return;
  const limit = node.config.controller?.outboxLimit ?? null;
  const event = limit !== null && node.state.read().agentBuild.reportedUpdate !== journal.id ? eventOfUpdate(journal) : null;
  let changed = false;
  // A read first: the daemon's idle cycles write nothing when there is nothing new.
  const probe = structuredClone({ failed: { ...node.state.read().agentBuild.failed }, heartbeat: null });
  if (!foldUpdateOutcome(probe, journal) && event === null) return;
  await node.state.update((draft) => {
    changed = foldUpdateOutcome(draft.agentBuild, journal);
    if (event !== null && limit !== null) {
      queueEvents(draft.outbox, [event], limit);
      draft.agentBuild.reportedUpdate = journal.id;
    }
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

/** How long the daemon leaves an updater it started to write its journal before it starts another. */
const UPDATER_START_GRACE_MS = 10 * 60_000;

/** The daemon's memory of the last updater it started: one start per target while it has not answered. */
export interface UpdaterStarts {
  last: { readonly to: string; readonly at: number } | null;
}

/**
 * After a cycle that decided to move the agent's own build (a group's agent.version or a pin.agent,
 * inside the windows, not held, not failed here): the updater, started through the service manager
 * outside this daemon's service, as `duck self-update --yes` — it stops and replaces this process.
 * Nothing starts while an update is in flight, and an updater that never wrote its journal is
 * started again only after a grace period. `journal` is the cycle's one read, from its start: an
 * updater someone else started since then holds the updater's lock, and the one started here exits.
 */
export async function startDueUpdate(node: NodeParts, outcome: CycleOutcome, journal: UpdateJournal | null, starts: UpdaterStarts, log: Logger): Promise<void> {
  const agent = outcome.resolve.agent;
  if (agent?.decision !== 'apply' || agent.release === null || agent.target === null) return;
  if (journal !== null && journal.outcome === 'running') return;
  const now = Date.now();
  if (starts.last && starts.last.to === agent.target && now - starts.last.at < UPDATER_START_GRACE_MS && (journal === null || Date.parse(journal.startedAt) < starts.last.at)) return;
  starts.last = { to: agent.target, at: now };
  log('self-update-starting', { from: runningBuild().version, to: agent.target, reason: agent.reason });
  try {
    await serviceManagerFor(node.config).startUpdater(['self-update', '--yes']);
  } catch (err) {
    log('self-update-start-failed', { to: agent.target, message: toDuckError(err).message });
  }
}
