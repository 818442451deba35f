import { DuckError } from '../../../schemas/errors.js';

/**
 * "The Docker engine did not answer" as one kind of error, apart from "the engine refused the
 * call": a Docker outage says nothing about a release, so it is waited out (bounded) and never
 * quarantines a version (issue 12 §6). Pure: the adapters hand in what the CLIs printed.
 */

/**
 * What `docker`, `docker compose` (v2, the Go client) and `docker-compose` (v1, docker-py) print
 * when the engine's socket is missing, refuses, resets or closes mid-call. The Go client wraps
 * every transport error in "error during connect" or "Cannot connect to the Docker daemon"; v1
 * prints a Python traceback whose last line names the requests/urllib3 connection error.
 */
const UNREACHABLE = [
  /cannot connect to the docker daemon/i,
  /error during connect/i,
  /couldn'?t connect to docker daemon/i,
  /error while fetching server api version/i,
  /connection aborted/i,
  /remotedisconnected|remote end closed connection/i,
  // A stream cut mid-answer. A bare "connection refused" is not here: a registry or an app says that too.
  /unexpected eof|: EOF\s*$/im,
];

/** An answer of the engine itself ("Error response from daemon: ... connection refused" from a registry). */
const DAEMON_ANSWERED = /error response from daemon/i;

/**
 * The docker client's own words only, for `docker exec`: there stderr is also the probed command's,
 * and a probe's "connection refused" is the app's answer, not the engine's silence.
 */
const CLIENT_UNREACHABLE = /cannot connect to the docker daemon|error during connect/i;

export function saysDockerClientUnreachable(output: string): boolean {
  return CLIENT_UNREACHABLE.test(output);
}

export function saysEngineUnreachable(output: string): boolean {
  if (DAEMON_ANSWERED.test(output) && !CLIENT_UNREACHABLE.test(output)) return false;
  return UNREACHABLE.some((re) => re.test(output));
}

/** The error an adapter throws when the engine did not answer `command`: code `docker`, retried. */
export function engineUnreachable(command: string, output: string, cause?: unknown): DuckError {
  const last = lastLine(output);
  return new DuckError(
    'docker',
    `the Docker engine did not answer \`${command}\`${last ? `: ${last}` : ''}`,
    { command, engine: 'unreachable' },
    'transient',
    cause === undefined ? undefined : { cause },
  );
}

export function isEngineUnreachable(err: unknown): err is DuckError {
  return err instanceof DuckError && err.code === 'docker' && err.data.engine === 'unreachable';
}

/** A traceback's or a Go error chain's last line is the one that names the cause. */
function lastLine(output: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  return (lines.at(-1) ?? '').slice(0, 300);
}
