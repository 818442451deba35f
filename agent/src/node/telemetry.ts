import type { AgentStatus, NodeFacts } from '../../../schemas/index.js';
import { DuckError } from '../../../schemas/errors.js';
import type { ControllerEnrollment } from '../core/agent-state.js';
import { isExpired } from '../core/announcements.js';
import type { Logger } from '../ports.js';
import type { EnrollmentDeps } from '../report/enrollment.js';
import { ensureEnrolled as enrollWith } from '../report/enrollment.js';
import type { Reporter } from '../report/reporter.js';
import { createReporter } from '../report/reporter.js';
import { agentStatus, agentUpdateStatus } from '../report/status.js';
import { runningBuild } from './agent-decision.js';
import { firstPollAt, reportOffsetMs } from '../core/poll-schedule.js';
import { readEnrollToken } from './config.js';
import type { CycleOutcome } from './cycle.js';
import type { NodeParts } from './wiring.js';

/**
 * Telemetry beside the daemon's cycles (DESIGN §4.5, §5): the reporter and the enrollment wired
 * to the node. The status a report carries is the last cycle's outcome read with the state —
 * the planner never runs again for a report.
 */

function enrollmentDeps(node: NodeParts, agentId: string, log: Logger): EnrollmentDeps {
  const client = node.controller;
  if (!client) throw new DuckError('usage', `${node.config.file} has no controller section: nothing to enroll with`, { file: node.config.file, field: '/controller' });
  return { state: node.state, client, clock: node.clock, agentId, enrollToken: () => readEnrollToken(node.config), facts: () => node.facts(), log };
}

/** Enrolls once (the writer only: it writes the state). */
export function ensureEnrolled(node: NodeParts, agentId: string, opts: { log: Logger; again?: boolean; signal?: AbortSignal }): Promise<ControllerEnrollment> {
  return enrollWith(enrollmentDeps(node, agentId, opts.log), { ...(opts.again ? { again: true } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
}

/** What a report says of the node: the last cycle's decisions with the state as it is now. */
export function statusOf(node: NodeParts, last: CycleOutcome | null): AgentStatus {
  const state = node.state.read();
  const group = node.config.group;
  const desired = last?.resolve.resolved?.desired ?? null;
  const agent = agentUpdateStatus(runningBuild().version, last?.resolve.agent ?? null, state.agentBuild.failed);
  const notices = announcementsReported(last, state.acknowledged, node.clock());
  if (desired) return { ...agentStatus({ state, group, desired, stale: last!.stale }), agent, ...notices };
  const undecided = last === null && state.channel.anchor ? 'not decided yet since the agent started' : undefined;
  return { ...agentStatus({ state, group, desired: null, stale: last?.stale ?? false, ...(undecided ? { undecided } : {}) }), agent, ...notices };
}

/**
 * The report's optional `announcements` (each in force, with its title and severity for the
 * controller's dashboard) and `acknowledged` (the ids of those the operator acknowledged), within
 * the schema's cap; each absent when empty.
 */
function announcementsReported(last: CycleOutcome | null, acknowledged: Readonly<Record<string, string>>, now: Date): Pick<AgentStatus, 'announcements' | 'acknowledged'> {
  const inForce = (last?.announcements ?? []).filter((a) => !isExpired(a, now)).slice(0, MAX_REPORTED_ANNOUNCEMENTS);
  const seen = inForce.map((a) => ({ id: a.id, title: a.title, severity: a.severity }));
  const acked = inForce.filter((a) => acknowledged[a.id] !== undefined).map((a) => a.id);
  return { ...(seen.length ? { announcements: seen } : {}), ...(acked.length ? { acknowledged: acked } : {}) };
}

// report.schema.json's maxItems for status.announcements.
const MAX_REPORTED_ANNOUNCEMENTS = 100;

/** The daemon's reporter; null when the config has no controller section (nothing is reported). */
export function nodeReporter(node: NodeParts, agentId: string, opts: { log: Logger; lastCycle: () => CycleOutcome | null; spread?: boolean }): Reporter | null {
  const settings = node.config.controller;
  const client = node.controller;
  if (!settings || !client) return null;
  // Facts are gathered once per daemon: Docker and compose are probed for the first report only.
  let facts: Promise<NodeFacts> | null = null;
  const factsOnce = (): Promise<NodeFacts> => (facts ??= node.facts());
  const enrollment = { ...enrollmentDeps(node, agentId, opts.log), facts: factsOnce };
  // Reports land at this node's own offset in the interval, the first one spread after start as the first poll is.
  const offsetMs = reportOffsetMs(agentId, settings.intervalMs);
  const now = Date.now();
  const schedule = { offsetMs, startDelayMs: opts.spread ? firstPollAt(now, settings.intervalMs, offsetMs, node.config.startSpreadMs) - now : 0 };
  return createReporter({
    state: node.state,
    clock: node.clock,
    client,
    intervalMs: settings.intervalMs,
    schedule,
    outboxLimit: settings.outboxLimit,
    log: opts.log,
    enroll: (o) => enrollWith(enrollment, o),
    facts: factsOnce,
    status: () => statusOf(node, opts.lastCycle()),
  });
}
