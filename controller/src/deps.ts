// What createApp is given: settings, the store, and the few stateful parts. main.ts and the test
// helper build it (server.ts: startController); nothing here starts work on import.
import type { AlertNotifier } from './alerts.js';
import type { Log } from './log.js';
import type { ControllerMetrics } from './metrics.js';
import type { SessionStore } from './sessions.js';
import type { FleetStore } from './store/fleet-store.js';

export interface ControllerSettings {
  dataDir: string;
  enrollToken: string;
  adminToken: string;
  /** A token that may read the admin API (GET) and change nothing: for CI (duck release gate) and scrapers. */
  readToken?: string;
  /** Cap of one diagnostics upload. */
  maxDiagnosticsBytes: number;
  /** Cap of one report body. */
  maxReportBytes: number;
  alertWebhook?: string;
  /** 0..1 */
  alertThreshold: number;
  alertMinAttempts: number;
  offlineAfterMs: number;
  eventRetentionMs: number;
  diagnosticsRetentionMs: number;
  /** Diagnostics bundles kept per agent (the newest), whatever their age. */
  diagnosticsPerAgent: number;
  /** How old GET /api/v1/fleet's summary may be; 0: computed for every request. */
  summaryMaxAgeMs: number;
}

export const DEFAULT_SETTINGS = {
  maxDiagnosticsBytes: 100 * 1024 * 1024,
  maxReportBytes: 1024 * 1024,
  alertThreshold: 0.2,
  alertMinAttempts: 3,
  offlineAfterMs: 15 * 60_000,
  eventRetentionMs: 90 * 86_400_000,
  diagnosticsRetentionMs: 30 * 86_400_000,
  diagnosticsPerAgent: 20,
  summaryMaxAgeMs: 0,
} as const;

export interface AppDeps {
  settings: ControllerSettings;
  store: FleetStore;
  metrics: ControllerMetrics;
  alerts: AlertNotifier;
  sessions: SessionStore;
  log: Log;
  now: () => Date;
}
