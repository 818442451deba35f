// The command-line protocol between the suite and a client under test (conformance/README.md is
// its text): the exit codes, the clock's environment variable and the JSON a client prints. Both
// sides import this module: the runner and the adapters shipped with the suite.

/** A client's exit code: what happened to the channel's tip. */
export const CLIENT_EXIT = {
  /** The tip (or the accepted commit, when nothing moved) is accepted. */
  accepted: 0,
  /** Not checked: the channel could not be fetched (`fetch`), or the client failed. */
  error: 1,
  usage: 2,
  /** Refused for a typed reason; the last accepted commit stays. */
  refused: 3,
} as const;

/**
 * The time a client must take for "now", as an ISO 8601 instant, set by the runner on every call.
 * A client reads its clock as this instant plus the time since it started (deadlines keep running).
 */
export const CLOCK_ENV = 'CONFORMANCE_NOW';

/** `verify --json`: one JSON object on stdout. */
export interface VerifyOutput {
  readonly ok: boolean;
  /** The accepted commit (when ok). */
  readonly commit?: string;
  /** The typed reason (when not ok). */
  readonly reason?: string;
  readonly message?: string;
  /** Warnings beside an accept, each with its typed reason (`stale`). */
  readonly warnings?: ReadonlyArray<{ readonly reason: string }>;
}

/** `status --json`: the commit the client has accepted, null before any. */
export interface StatusOutput {
  readonly commit: string | null;
}

/** The JSON object a client printed, or why it is not one. */
export function parseClientJson(stdout: string): Record<string, unknown> | string {
  try {
    const value = JSON.parse(stdout) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : `not a JSON object: ${stdout.slice(0, 200)}`;
  } catch {
    return `not JSON: ${stdout.slice(0, 200) || '(nothing on stdout)'}`;
  }
}
