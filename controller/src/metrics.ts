// Prometheus metrics in the controller's own Registry (never prom-client's global one, so two
// controllers in one process — tests — do not share counters). Only counts and names of groups,
// apps and versions; no hostnames or ids, so /metrics needs no token.
import { Counter, Gauge, Registry } from 'prom-client';
import type { FleetSummary } from './fleet-summary.js';
import type { RolloutProgress } from './rollout-progress.js';

export type RejectionReason = 'unauthenticated' | 'forbidden' | 'too-large' | 'malformed-json' | 'invalid';

export class ControllerMetrics {
  readonly registry = new Registry();
  readonly reports: Counter;
  readonly events: Counter<'type'>;
  readonly rejections: Counter<'reason'>;
  private readonly agents: Gauge<'state'>;
  private readonly running: Gauge<'group' | 'app' | 'version'>;
  private readonly outcomes: Gauge<'group' | 'app' | 'version' | 'outcome'>;
  private readonly nodes: Gauge<'group' | 'app' | 'version' | 'verdict'>;
  private readonly rolloutNodes: Gauge<'group' | 'app' | 'version' | 'place'>;
  private readonly rolloutTarget: Gauge<'group' | 'app' | 'version'>;
  private readonly agentVersions: Gauge<'group' | 'version'>;
  private readonly agentFailed: Gauge<'group' | 'version'>;
  private readonly stale: Gauge;
  private readonly unreachable: Gauge;

  constructor() {
    const registers = [this.registry];
    this.reports = new Counter({ name: 'duck_reports_received_total', help: 'Reports accepted from agents', registers });
    this.events = new Counter({ name: 'duck_events_received_total', help: 'New (not duplicate) events received, by type', labelNames: ['type'], registers });
    this.rejections = new Counter({
      name: 'duck_report_rejections_total',
      help: 'Reports refused, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.agents = new Gauge({ name: 'duck_agents', help: 'Enrolled agents by state (worst wins)', labelNames: ['state'], registers });
    this.running = new Gauge({
      name: 'duck_agents_running',
      help: 'Agents running each version of each app, per group',
      labelNames: ['group', 'app', 'version'],
      registers,
    });
    this.outcomes = new Gauge({
      name: 'duck_change_outcomes',
      help: 'Change outcomes reported since the data began, per group, app and version (kept across restarts)',
      labelNames: ['group', 'app', 'version', 'outcome'],
      registers,
    });
    this.nodes = new Gauge({
      name: 'duck_change_nodes',
      help: 'Nodes per version by verdict, each node once: applied, release-failed (counts for the alert), infrastructure-failed (the node, not the release)',
      labelNames: ['group', 'app', 'version', 'verdict'],
      registers,
    });
    this.rolloutNodes = new Gauge({
      name: 'duck_rollout_nodes',
      help: "Nodes of each group's rollout by place, toward the version the group asks for: healthy (run it), releaseFailed, infrastructureFailed, window and rollout (waiting), pinned, held, offline, updating, other",
      labelNames: ['group', 'app', 'version', 'place'],
      registers,
    });
    this.rolloutTarget = new Gauge({
      name: 'duck_rollout_target',
      help: 'The version each group asks for, per app (1); join on it to compare with duck_agents_running',
      labelNames: ['group', 'app', 'version'],
      registers,
    });
    this.agentVersions = new Gauge({
      name: 'duck_agent_version_nodes',
      help: "Nodes running each version of the duck agent itself, per group (the agent's facts)",
      labelNames: ['group', 'version'],
      registers,
    });
    this.agentFailed = new Gauge({
      name: 'duck_agent_failed_version_nodes',
      help: 'Nodes where a version of the duck agent failed its self-update and is kept off (refused before the switch or switched back), per group; each node once per version',
      labelNames: ['group', 'version'],
      registers,
    });
    this.stale = new Gauge({ name: 'duck_stale_channels', help: 'Agents whose accepted channel commit is stale', registers });
    this.unreachable = new Gauge({ name: 'duck_unreachable_channels', help: 'Agents whose last channel fetch failed', registers });
  }

  rejected(reason: RejectionReason): void {
    this.rejections.inc({ reason });
  }

  /** The text format, with the fleet and rollout gauges set from what was computed for this scrape. */
  async render(summary: FleetSummary, rollouts: readonly RolloutProgress[] = []): Promise<string> {
    this.agents.reset();
    for (const [state, n] of Object.entries(summary.agents.byState)) this.agents.set({ state }, n);
    this.running.reset();
    for (const group of summary.groups) {
      for (const app of group.apps) {
        for (const v of app.versions) this.running.set({ group: group.group, app: app.app, version: v.version }, v.agents);
      }
    }
    this.agentVersions.reset();
    this.agentFailed.reset();
    for (const group of summary.groups) {
      for (const v of group.agent.versions) this.agentVersions.set({ group: group.group, version: v.version }, v.agents);
      for (const v of group.agent.failed) this.agentFailed.set({ group: group.group, version: v.version }, v.agents);
    }
    this.outcomes.reset();
    this.nodes.reset();
    for (const o of summary.outcomes) {
      const labels = { group: o.group, app: o.app, version: o.version };
      this.outcomes.set({ ...labels, outcome: 'applied' }, o.applied);
      this.outcomes.set({ ...labels, outcome: 'rolled-back' }, o.rolledBack);
      this.outcomes.set({ ...labels, outcome: 'rollback-failed' }, o.rollbackFailed);
      this.outcomes.set({ ...labels, outcome: 'deferred' }, o.deferred);
      this.outcomes.set({ ...labels, outcome: 'failed' }, o.failed);
      this.outcomes.set({ ...labels, outcome: 'interrupted' }, o.interrupted);
      this.nodes.set({ ...labels, verdict: 'applied' }, o.nodes.applied);
      this.nodes.set({ ...labels, verdict: 'release-failed' }, o.nodes.releaseFailed);
      this.nodes.set({ ...labels, verdict: 'infrastructure-failed' }, o.nodes.infrastructureFailed);
    }
    this.rolloutNodes.reset();
    this.rolloutTarget.reset();
    for (const r of rollouts) {
      if (r.version === null) continue;
      const labels = { group: r.group, app: r.app, version: r.version };
      this.rolloutTarget.set(labels, 1);
      for (const [place, n] of Object.entries(r.counts)) this.rolloutNodes.set({ ...labels, place }, n);
    }
    this.stale.set(summary.staleChannels);
    this.unreachable.set(summary.unreachableChannels);
    return this.registry.metrics();
  }
}
