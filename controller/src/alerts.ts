// The failure-rate alert (nodes where the release failed, failure-rate.ts): recorded once per
// (group, app, version) and POSTed to the webhook with retries, always off the request path — a
// dead webhook never slows or fails a report. The controller only tells people; it never changes
// what agents run.
import pRetry from 'p-retry';
import { crossesThreshold, failureRate, type AlertPolicy } from './failure-rate.js';
import type { Log } from './log.js';
import type { FleetStore, OutcomeEntry } from './store/fleet-store.js';

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
  /** Where alerts are recorded, so each is sent once, restarts included. */
  store: FleetStore;
  log: Log;
  /** Retries after the first attempt (p-retry backoff). */
  retries?: number;
  minTimeoutMs?: number;
  /** Per attempt. */
  timeoutMs?: number;
}

export class AlertNotifier {
  private readonly stop = new AbortController();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly opts: AlertNotifierOptions) {}

  /** Records alerts for the rows that crossed the threshold now and sends them; never throws. */
  async evaluate(rows: readonly OutcomeEntry[], now: Date): Promise<void> {
    const { policy, store } = this.opts;
    for (const row of rows) {
      const rate = failureRate(row);
      if (!crossesThreshold(rate, policy)) continue;
      const at = now.toISOString();
      const alert = {
        group: row.group,
        app: row.app,
        version: row.version,
        rate: rate.rate,
        attempts: rate.attempts,
        failures: rate.failures,
        infrastructureFailures: rate.infrastructureFailures,
        at,
      };
      try {
        if (!(await store.recordAlert(alert))) continue;
      } catch (err) {
        this.opts.log({ event: 'alert-record-failed', group: row.group, app: row.app, version: row.version, error: (err as Error).message });
        continue;
      }
      this.opts.log({ event: 'alert', ...alert });
      this.send({ kind: 'failure-rate', ...alert, threshold: policy.threshold, agents: [...row.failedAgents], advice: ALERT_ADVICE });
    }
  }

  send(payload: AlertPayload): void {
    const { url } = this.opts;
    if (!url) return;
    const delivery = pRetry(
      async () => {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(payload),
          signal: AbortSignal.any([this.stop.signal, AbortSignal.timeout(this.opts.timeoutMs ?? 10_000)]),
        });
        await res.body?.cancel();
        if (!res.ok) throw new Error(`webhook answered ${res.status}`);
      },
      { retries: this.opts.retries ?? 5, minTimeout: this.opts.minTimeoutMs ?? 1000, signal: this.stop.signal },
    ).then(
      () => this.opts.log({ event: 'alert-sent', group: payload.group, app: payload.app, version: payload.version }),
      (err: unknown) =>
        this.opts.log({ event: 'alert-send-failed', group: payload.group, app: payload.app, version: payload.version, error: (err as Error).message }),
    );
    this.inFlight.add(delivery);
    void delivery.finally(() => this.inFlight.delete(delivery));
  }

  /** Stops retrying and waits for deliveries in flight to settle. */
  async close(): Promise<void> {
    this.stop.abort();
    await Promise.all([...this.inFlight]);
  }
}
