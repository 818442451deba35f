// The alert leader: of the controllers on one database, the one that holds a session advisory lock
// on a connection of its own (not from the pool, which would hand the lock's session to anything)
// sends every alert the controllers record. recordAlert writes the row as 'pending' and NOTIFYs;
// the leader LISTENs, sends what is pending, and marks each row sent (or failed once its retries
// are spent). The others bid again every `retryMs`. When the leader dies its connection closes,
// PostgreSQL releases the lock, and the next bid takes over and sends what is still pending — so
// an alert recorded by any controller is sent once. Around a leader's death an alert it sent but
// had not yet marked is sent again: at least once there, never lost.
import pg from 'pg';
import { deliverAlert } from '../alert-dispatch.js';
import type { Log } from '../log.js';
import type { AlertDispatch, AlertRecord, AlertSend } from './fleet-store.js';

/** hashtext() of this names the lock; every controller of a Duck database bids for the same one. */
const LOCK_NAME = 'duck-controller: alert leader';
export const ALERT_CHANNEL = 'duck_alerts';
export const ALERT_LEADER_RETRY_MS = 5_000;
/** A NOTIFY is lost with a connection: the leader also looks for pending rows this often. */
const POLL_MS = 30_000;
/** A pending alert older than this is not sent: a webhook added to a long-running fleet does not get its history. */
const MAX_PENDING_AGE_MS = 24 * 3_600_000;
/** Rows one look sends at most; the next look takes the rest. */
const BATCH = 100;

const PENDING = `
  SELECT a.body, coalesce(o.failed_agents, '{}') AS agents
  FROM alerts a LEFT JOIN outcomes o ON o.grp = a.grp AND o.app = a.app AND o.version = a.version
  WHERE a.delivery = 'pending' ORDER BY a.seq LIMIT ${BATCH}`;

const MARK = `
  UPDATE alerts SET delivery = $4, sent_at = CASE WHEN $4 = 'sent' THEN now() END
  WHERE grp = $1 AND app = $2 AND version = $3 AND delivery = 'pending'`;

export interface AlertLeaderOptions {
  /** How often a standby bids for the lock, and how soon after a lost connection; default 5 s. */
  retryMs?: number;
  pollMs?: number;
  now?: () => number;
}

type Role = 'leader' | 'standby';

export class PgAlertLeader implements AlertDispatch {
  private client: pg.Client | null = null;
  /** Set while this controller leads; aborted when it stops leading. */
  private leading: AbortController | null = null;
  private role: Role | null = null;
  private bidTimer: NodeJS.Timeout | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private draining: Promise<void> | null = null;
  private drainAgain = false;
  private bidding: Promise<void> | null = null;
  private closed = false;
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly retryMs: number;
  private readonly pollMs: number;
  private readonly now: () => number;

  /** Bids at once; a standby goes on bidding until close(). */
  constructor(
    private readonly url: string,
    private readonly pool: pg.Pool,
    private readonly send: AlertSend,
    private readonly log: Log,
    opts: AlertLeaderOptions = {},
  ) {
    this.retryMs = opts.retryMs ?? ALERT_LEADER_RETRY_MS;
    this.pollMs = opts.pollMs ?? POLL_MS;
    this.now = opts.now ?? Date.now;
    this.bidNow();
  }

  recorded(): void {
    // The row is pending already and recordAlert's NOTIFY wakes the leader, here or on another
    // controller; a leader here need not wait for it.
    this.drain();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.bidTimer) clearTimeout(this.bidTimer);
    await this.bidding;
    this.stopLeading();
    await this.draining;
    await Promise.all([...this.inFlight.values()]);
    const client = this.client;
    this.client = null;
    // Ending the session releases the lock: a standby takes over at its next bid.
    await client?.end().catch(() => undefined);
  }

  private bidNow(): void {
    this.bidTimer = null;
    if (this.closed) return;
    this.bidding = this.bid().finally(() => {
      this.bidding = null;
    });
  }

  private async bid(): Promise<void> {
    try {
      const client = this.client ?? (await this.connect());
      const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [LOCK_NAME]);
      if (rows[0]?.ok) {
        await client.query(`LISTEN ${ALERT_CHANNEL}`);
        if (this.closed) return;
        this.lead();
        return;
      }
      this.become('standby');
    } catch (err) {
      this.log({ event: 'alert-leader-bid-failed', error: (err as Error).message, retryInMs: this.retryMs });
      this.dropClient();
    }
    this.scheduleBid();
  }

  private scheduleBid(): void {
    if (this.closed || this.bidTimer) return;
    this.bidTimer = setTimeout(() => this.bidNow(), this.retryMs);
    this.bidTimer.unref();
  }

  private async connect(): Promise<pg.Client> {
    // keepAlive: a leader whose network to the database died learns it, and stops sending.
    const client = new pg.Client({ connectionString: this.url, keepAlive: true });
    client.on('error', (err) => this.lost(client, err.message));
    client.on('end', () => this.lost(client, 'the connection ended'));
    client.on('notification', () => this.drain());
    await client.connect();
    if (this.closed) {
      await client.end().catch(() => undefined);
      throw new Error('closed');
    }
    this.client = client;
    return client;
  }

  private lead(): void {
    this.leading = new AbortController();
    this.become('leader');
    this.pollTimer = setInterval(() => this.drain(), this.pollMs);
    this.pollTimer.unref();
    this.drain();
  }

  private become(role: Role): void {
    if (this.role === role) return;
    this.role = role;
    if (role === 'leader') this.log({ event: 'alert-leader', role, message: 'leader for alerts: this controller sends the webhooks' });
    else this.log({ event: 'alert-standby', role, message: `standby: another controller sends the webhooks; bidding every ${this.retryMs} ms`, retryMs: this.retryMs });
  }

  /** The dedicated connection failed or ended: the lock went with it, so this controller stops sending at once. */
  private lost(client: pg.Client, why: string): void {
    if (client !== this.client) return;
    this.client = null;
    const wasLeader = this.leading !== null;
    this.stopLeading();
    if (this.closed) return;
    this.log({ event: 'alert-leader-connection-lost', error: why, wasLeader, retryInMs: this.retryMs });
    this.role = null;
    this.scheduleBid();
  }

  private dropClient(): void {
    const client = this.client;
    this.client = null;
    this.stopLeading();
    void client?.end().catch(() => undefined);
  }

  private stopLeading(): void {
    this.leading?.abort();
    this.leading = null;
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
  }

  private drain(): void {
    const leading = this.leading;
    if (!leading || this.closed) return;
    if (this.draining) {
      this.drainAgain = true;
      return;
    }
    this.draining = this.sendPending(leading.signal)
      .catch((err: unknown) => this.log({ event: 'alert-pending-read-failed', error: (err as Error).message }))
      .finally(() => {
        this.draining = null;
        if (this.drainAgain) {
          this.drainAgain = false;
          this.drain();
        }
      });
  }

  private async sendPending(signal: AbortSignal): Promise<void> {
    const { rows } = await this.pool.query<{ body: AlertRecord; agents: string[] }>(PENDING);
    for (const { body: alert, agents } of rows) {
      if (signal.aborted) return;
      const key = JSON.stringify([alert.group, alert.app, alert.version]);
      if (this.inFlight.has(key)) continue;
      const about = [alert.group, alert.app, alert.version];
      if (this.now() - Date.parse(alert.at) > MAX_PENDING_AGE_MS) {
        await this.pool.query(MARK, [...about, 'expired']);
        this.log({ event: 'alert-expired', group: alert.group, app: alert.app, version: alert.version, at: alert.at });
        continue;
      }
      const delivery = deliverAlert(this.send, alert, agents, signal, this.log)
        .then(async (outcome) => {
          // 'stopped': this controller no longer leads; the row stays pending for the next leader.
          if (outcome !== 'stopped') await this.pool.query(MARK, [...about, outcome]);
        })
        .catch((err: unknown) => this.log({ event: 'alert-mark-failed', group: alert.group, app: alert.app, version: alert.version, error: (err as Error).message }))
        .finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, delivery);
    }
  }
}
