// The failure-rate alert (nodes where the release failed, failure-rate.ts): recorded once per
// (group, app, version) and POSTed to the webhook with retries, always off the request path — a
// dead webhook never slows or fails a report. Which controller POSTs it is the store's to say
// (alert-dispatch.ts: the one that recorded it; with PostgreSQL, the alert leader). The
// controller only tells people; it never changes what agents run.
import pRetry from 'p-retry';
import { crossesThreshold, failureRate, type AlertPolicy } from './failure-rate.js';
import type { Log } from './log.js';
import type { AlertDispatch, AlertRecord, FleetStore, OutcomeEntry } from './store/fleet-store.js';

export const ALERT_ADVICE = 'pause the rollout (lower rollout percent in groups/<group>.yaml) or git revert the promotion';

export interface AlertPayload {
  kind: 'failure-rate';
  group: string;
  app: string;
  version: string;
  /** Nodes that tried the version (applied, or failed by the release's fault). */
  attempts: number;
  /** Nodes where the release failed, each once. */
  failures: number;
  rate: number;
  /** Nodes that failed for their own reasons (engine, space, a kill): not in the rate. */
  infrastructureFailures: number;
  threshold: number;
  agents: string[];
  at: string;
  advice: string;
}

export interface AlertNotifierOptions {
  url?: string;
  policy: AlertPolicy;
  /** Where alerts are recorded, so each is sent once, restarts included; it decides which controller sends (FleetStore.dispatchAlerts). */
  store: FleetStore;
  log: Log;
  /** Retries after the first attempt (p-retry backoff). */
  retries?: number;
  minTimeoutMs?: number;
  /** Per attempt. */
  timeoutMs?: number;
}

/** The webhook's body for a recorded alert; `agents` are the nodes where the release failed. */
export function alertPayload(alert: AlertRecord, agents: readonly string[], threshold: number): AlertPayload {
  const { group, app, version, rate, attempts, failures, infrastructureFailures, at } = alert;
  return { kind: 'failure-rate', group, app, version, attempts, failures, rate, infrastructureFailures: infrastructureFailures ?? 0, threshold, agents: [...agents], at, advice: ALERT_ADVICE };
}

export class AlertNotifier {
  /** Null without a webhook: alerts are only recorded. */
  private readonly dispatch: AlertDispatch | null;

  /** Starts the store's alert dispatch when there is a webhook (with PostgreSQL: the bid for alert leadership). */
  constructor(private readonly opts: AlertNotifierOptions) {
    const { url } = opts;
    this.dispatch = url ? opts.store.dispatchAlerts((alert, agents, signal) => this.post(url, alert, agents, signal), opts.log) : null;
  }

  /** Records alerts for the rows that crossed the threshold now and sends them; never throws. */
  async evaluate(rows: readonly OutcomeEntry[], now: Date): Promise<void> {
    const { policy, store } = this.opts;
    for (const row of rows) {
      const rate = failureRate(row);
      if (!crossesThreshold(rate, policy)) continue;
      const alert: AlertRecord = {
        group: row.group,
        app: row.app,
        version: row.version,
        rate: rate.rate,
        attempts: rate.attempts,
        failures: rate.failures,
        infrastructureFailures: rate.infrastructureFailures,
        at: now.toISOString(),
      };
      try {
        if (!(await store.recordAlert(alert))) continue;
      } catch (err) {
        this.opts.log({ event: 'alert-record-failed', group: row.group, app: row.app, version: row.version, error: (err as Error).message });
        continue;
      }
      this.opts.log({ event: 'alert', ...alert });
      this.dispatch?.recorded(alert, row.failedAgents);
    }
  }

  private async post(url: string, alert: AlertRecord, agents: readonly string[], signal: AbortSignal): Promise<void> {
    const body = JSON.stringify(alertPayload(alert, agents, this.opts.policy.threshold));
    await pRetry(
      async () => {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.any([signal, AbortSignal.timeout(this.opts.timeoutMs ?? 10_000)]),
        });
        await res.body?.cancel();
        if (!res.ok) throw new Error(`webhook answered ${res.status}`);
      },
      { retries: this.opts.retries ?? 5, minTimeout: this.opts.minTimeoutMs ?? 1000, signal },
    );
  }

  /** Stops retrying and waits for deliveries in flight to settle. */
  async close(): Promise<void> {
    await this.dispatch?.close();
  }
}
