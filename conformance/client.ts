// The client under test as the runner calls it: a command given the protocol's arguments, with
// the suite's clock in its environment (protocol.ts), its answer read whole.
import { run } from '../examples/harness/tmp.js';
import { CLOCK_ENV, parseClientJson } from './protocol.js';

export interface ClientCall {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout as a JSON object, or why it is not one. */
  readonly json: Record<string, unknown> | string;
}

export interface Client {
  /** Calls for one case's state directory: `args`, with the clock `hours` from the real time. */
  bind(stateDir: string): (args: readonly string[], hours: number) => Promise<ClientCall>;
}

/**
 * `command` is an executable, or a JavaScript file run with the node running the suite. `init` is
 * given `--timeout`: a client may wait that long on a silent or trickling server before it gives
 * up with `fetch`, so the hostile cases end in seconds.
 */
export function clientCommand(command: string, opts: { timeoutSeconds: number }): Client {
  const [file, prefix] = /\.[cm]?js$/.test(command) ? [process.execPath, [command]] : [command, []];
  return {
    bind: (stateDir) => async (args, hours) => {
      const full = args[0] === 'init' ? [...args, '--timeout', String(opts.timeoutSeconds)] : [...args.slice(0, 1), '--state', stateDir, ...args.slice(1)];
      const now = new Date(Date.now() + hours * 3_600_000).toISOString();
      const r = await run(file, [...prefix, ...full], { allowFailure: true, env: { ...process.env, [CLOCK_ENV]: now } });
      const stdout = r.stdout.toString('utf8');
      return { code: r.code, stdout, stderr: r.stderr, json: parseClientJson(stdout) };
    },
  };
}
