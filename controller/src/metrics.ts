// Prometheus metrics in the controller's own Registry (never prom-client's global one, so two
// controllers in one process — tests — do not share counters). Only counts and names of groups,
// apps and versions; no hostnames or ids, so /metrics needs no token.
import { Counter, Gauge, Registry } from 'prom-client';
import type { FleetSummary } from './fleet-summary.js';

export type RejectionReason = 'unauthenticated' | 'forbidden' | 'too-large' | 'malformed-json' | 'invalid';

export class ControllerMetrics {
  readonly registry = new Registry();
  readonly reports: Counter;
  readonly events: Counter<'type'>;
  readonly rejections: Counter<'reason'>;
  private readonly agents: Gauge<'state'>;
  private readonly running: Gauge<'group' | 'app' | 'version'>;
  private readonly outcomes: Gauge<'group' | 'app' | 'version' | 'outcome'>;
  private readonly stale: Gauge;

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
    this.stale = new Gauge({ name: 'duck_stale_channels', help: 'Agents whose accepted channel commit is stale', registers });
  }

  rejected(reason: RejectionReason): void {
    this.rejections.inc({ reason });
  }

  /** The text format, with the fleet gauges set from a summary computed for this scrape. */
  async render(summary: FleetSummary): Promise<string> {
    this.agents.reset();
    for (const [state, n] of Object.entries(summary.agents.byState)) this.agents.set({ state }, n);
    this.running.reset();
    for (const group of summary.groups) {
      for (const app of group.apps) {
        for (const v of app.versions) this.running.set({ group: group.group, app: app.app, version: v.version }, v.agents);
      }
    }
    this.outcomes.reset();
    for (const o of summary.outcomes) {
      const labels = { group: o.group, app: o.app, version: o.version };
      this.outcomes.set({ ...labels, outcome: 'applied' }, o.applied);
      this.outcomes.set({ ...labels, outcome: 'rolled-back' }, o.rolledBack);
      this.outcomes.set({ ...labels, outcome: 'rollback-failed' }, o.rollbackFailed);
      this.outcomes.set({ ...labels, outcome: 'deferred' }, o.deferred);
    }
    this.stale.set(summary.staleChannels);
    return this.registry.metrics();
  }
}
