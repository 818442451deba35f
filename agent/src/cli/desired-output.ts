import { formatDuration } from '../core/duration.js';
import { planSteps } from '../core/change.js';
import type { Decisions } from '../node/decisions.js';
import type { Output } from './output.js';

/** The JSON of a desired state and its plan, shared by `duck check` and `duck status`. */
export function desiredJson(d: Decisions): Record<string, unknown> {
  const { desired, plan } = d;
  return {
    agentId: d.agentId,
    zone: d.zone,
    hold: desired.hold,
    approval: desired.approval,
    windows: { from: desired.windowsFrom, list: desired.windows, open: desired.windowOpen, next: desired.nextWindow },
    apps: desired.apps.map((a) => ({
      app: a.app,
      current: a.current,
      desired: a.desired,
      source: a.source,
      decision: a.decision,
      reason: a.reason,
      until: a.until,
      trigger: a.trigger,
      bucket: a.bucket === null ? null : Number(a.bucket.toFixed(2)),
      percent: a.percent,
    })),
    plan: {
      changes: plan.changes.map((c) => ({ kind: c.kind, app: c.app, from: c.from, to: c.to, trigger: c.trigger, reason: c.reason })),
      steps: planSteps(plan),
      waits: plan.waits,
    },
  };
}

export function printDesired(out: Output, d: Decisions, now: Date): void {
  const { desired, plan } = d;
  out.line(`hold       ${desired.hold ? `held: ${desired.hold.reason}${desired.hold.until ? ` (until ${desired.hold.until})` : ''}` : 'none'}`);
  out.line(`approval   ${desired.approval}`);
  if (desired.windows.length === 0) out.line('windows    none: changes the channel asks for start at once');
  else {
    out.line(`windows    ${desired.windows.join('; ')} (from ${desired.windowsFrom === 'overlay' ? 'the overlay' : 'the group'})`);
    const next = desired.nextWindow;
    const state = desired.windowOpen ? 'open now' : 'closed';
    out.line(`           ${state}${next ? `; next opens ${next.label} (${next.start}, in ${formatDuration(Date.parse(next.start) - now.getTime())})` : ''}`);
  }
  out.line();
  const rows = desired.apps.map((a) => [a.app, a.current ?? '-', a.desired ?? '-', a.decision, a.reason]);
  const widths = [3, 7, 7, 8].map((w, i) => Math.max(w, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]): string => r.map((c, i) => (i < 4 ? c.padEnd(widths[i]!) : c)).join('  ');
  out.line(fmt(['APP', 'CURRENT', 'DESIRED', 'DECISION', 'REASON']));
  for (const r of rows) out.line(fmt(r));
  out.line();
  const steps = planSteps(plan);
  if (steps.length === 0) out.line('plan: nothing to do now');
  else {
    out.line('plan (nothing is executed by this command):');
    steps.forEach((s, i) => out.line(`  ${String(i + 1).padStart(2)}. ${s.kind.padEnd(14)} ${s.reason}`));
  }
}
