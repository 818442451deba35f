import type { AppBackoff } from '../core/agent-state.js';
import { runState } from '../core/agent-state.js';
import { formatDuration } from '../core/duration.js';
import { planSteps } from '../core/change.js';
import type { Decisions } from '../node/decisions.js';
import type { StateSnapshot } from '../ports.js';
import type { Output } from './output.js';

/**
 * The JSON of a desired state and its plan, shared by `duck check` and `duck status`. With the
 * state, each app also says what runs (`state`: running, stopped by duck stop, failed, orphaned).
 */
export function desiredJson(d: Decisions, state?: StateSnapshot): Record<string, unknown> {
  const { desired, plan } = d;
  return {
    agentId: d.agentId,
    zone: d.zone(),
    hold: desired.hold,
    approval: desired.approval,
    windows: { from: desired.windowsFrom, list: desired.windows, open: desired.windowOpen, next: desired.nextWindow },
    apps: desired.apps.map((a) => ({
      app: a.app,
      current: a.current,
      desired: a.desired,
      ...(state ? { state: runState(state, a.app) } : {}),
      source: a.source,
      groupVersion: a.groupVersion,
      pinned: a.pinned,
      decision: a.decision,
      waitingFor: a.waitingFor,
      reason: a.reason,
      until: a.until,
      trigger: a.trigger,
      bucket: a.bucket === null ? null : Number(a.bucket.toFixed(2)),
      percent: a.percent,
      backoff: a.backoff ? backoffJson(a.backoff) : null,
    })),
    plan: {
      changes: plan.changes.map((c) => ({ kind: c.kind, app: c.app, from: c.from, to: c.to, trigger: c.trigger, reason: c.reason })),
      steps: planSteps(plan),
      waits: plan.waits,
    },
  };
}

/** The report's BackoffStatus shape, so a script reads `duck status --json` and the controller alike. */
function backoffJson(b: AppBackoff): Record<string, unknown> {
  return { cause: b.cause, message: b.message, failures: b.failures, since: b.since, nextTryAt: b.nextTryAt };
}

export function printDesired(out: Output, d: Decisions, now: Date, state?: StateSnapshot): void {
  const { desired, plan } = d;
  out.line(`hold       ${desired.hold ? `held: ${desired.hold.reason}${desired.hold.until ? ` (until ${desired.hold.until})` : ''}` : 'none'}`);
  out.line(`approval   ${desired.approval}`);
  if (desired.windows.length === 0) out.line('windows    none: changes the channel asks for start at once');
  else {
    out.line(`windows    ${desired.windows.join('; ')} (from ${desired.windowsFrom === 'overlay' ? 'the overlay' : 'the group'})`);
    const next = desired.nextWindow;
    const open = desired.windowOpen ? 'open now' : 'closed';
    out.line(`           ${open}${next ? `; next opens ${next.label} (${next.start}, in ${formatDuration(Date.parse(next.start) - now.getTime())})` : ''}`);
  }
  for (const a of desired.apps) {
    if (!a.backoff) continue;
    const b = a.backoff;
    out.line(
      `backoff    ${a.app} ${b.version}: ${b.cause}, ${b.failures} failure(s) in a row since ${b.since}; ` +
        `next try at ${b.nextTryAt} (in ${formatDuration(Date.parse(b.nextTryAt) - now.getTime())}); duck retry ${a.app} tries now`,
    );
  }
  out.line();
  const head = ['APP', 'CURRENT', 'DESIRED', ...(state ? ['STATE'] : []), 'DECISION', 'REASON'];
  const rows = desired.apps.map((a) => [a.app, a.current ?? '-', a.desired ?? '-', ...(state ? [runState(state, a.app)] : []), a.decision, a.reason]);
  const last = head.length - 1;
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]): string => r.map((c, i) => (i < last ? c.padEnd(widths[i]!) : c)).join('  ');
  out.line(fmt(head));
  for (const r of rows) out.line(fmt(r));
  out.line();
  const steps = planSteps(plan);
  if (steps.length === 0) out.line('plan: nothing to do now');
  else {
    out.line('plan (nothing is executed by this command):');
    steps.forEach((s, i) => out.line(`  ${String(i + 1).padStart(2)}. ${s.kind.padEnd(14)} ${s.reason}`));
  }
}
