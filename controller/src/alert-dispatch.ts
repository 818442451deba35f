// Sending a recorded alert: one delivery with its log line (deliverAlert), and the dispatch of a
// store that serves one controller — the controller that records an alert sends it at once, off
// the request path. Several controllers on PostgreSQL elect one sender instead (store/pg-alert-leader.ts).
import type { Log } from './log.js';
import type { AlertDispatch, AlertRecord, AlertSend } from './store/fleet-store.js';

export type DeliveryOutcome = 'sent' | 'failed' | 'stopped';

/** Sends one alert and logs how it went; never throws. 'stopped': `signal` ended it (a close, a lost leadership). */
export async function deliverAlert(send: AlertSend, alert: AlertRecord, agents: readonly string[], signal: AbortSignal, log: Log): Promise<DeliveryOutcome> {
  const about = { group: alert.group, app: alert.app, version: alert.version };
  try {
    await send(alert, agents, signal);
    log({ event: 'alert-sent', ...about });
    return 'sent';
  } catch (err) {
    if (signal.aborted) return 'stopped';
    log({ event: 'alert-send-failed', ...about, error: (err as Error).message });
    return 'failed';
  }
}

export class DirectAlertDispatch implements AlertDispatch {
  private readonly stop = new AbortController();
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly send: AlertSend,
    private readonly log: Log,
  ) {}

  recorded(alert: AlertRecord, agents: readonly string[]): void {
    const delivery = deliverAlert(this.send, alert, agents, this.stop.signal, this.log);
    this.inFlight.add(delivery);
    void delivery.finally(() => this.inFlight.delete(delivery));
  }

  async close(): Promise<void> {
    this.stop.abort();
    await Promise.all([...this.inFlight]);
  }
}
