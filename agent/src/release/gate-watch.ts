// `duck release gate`'s watch: read the controller's rollout progress, judge it, and while it
// cannot be told yet read again every interval until the wait ends. A controller that does not
// answer (network, 5xx) is read again like a pending rollout; one that refuses the token or does
// not know the route stops the watch at once, since waiting cannot mend it.
import { toDuckError } from '../../../schemas/errors.js';
import { createControllerClient } from '../adapters/controller-client.js';
import type { ControllerClient } from '../ports.js';
import { judgeRollout, readRollouts, type GateCriteria, type GateVerdict } from './rollout-gate.js';

export interface GateTarget {
  group: string;
  app: string;
  version: string;
}

export interface GateWatchOptions {
  controllerUrl: string;
  token: string;
  target: GateTarget;
  criteria: GateCriteria;
  /** 0: one reading, no waiting. */
  waitMs: number;
  pollMs: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Each reading that leaves the gate pending, for progress lines. */
  onPending?: (verdict: GateVerdict) => void;
  /** A client of its own (tests); default: the HTTP one. */
  client?: Pick<ControllerClient, 'rollouts' | 'url'>;
}

/** pass and fail as judged; timeout: still pending when the wait ended, with what the last reading saw. */
export type GateOutcome = { kind: 'pass' | 'fail' | 'timeout'; message: string; readings: number };

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function readOnce(client: Pick<ControllerClient, 'rollouts' | 'url'>, o: GateWatchOptions): Promise<GateVerdict> {
  const where = `${client.url}/api/v1/rollouts`;
  try {
    const body = await client.rollouts(o.token, { group: o.target.group, app: o.target.app, version: o.target.version });
    const reading = readRollouts(body, where).find((r) => r.group === o.target.group && r.app === o.target.app);
    return judgeRollout(reading, o.target, o.criteria);
  } catch (err) {
    const e = toDuckError(err);
    if (e.retry !== 'transient') throw e;
    return { kind: 'pending', message: `the controller did not answer: ${e.message}` };
  }
}

export async function watchRolloutGate(o: GateWatchOptions): Promise<GateOutcome> {
  const client = o.client ?? createControllerClient(o.controllerUrl);
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? pause;
  const deadline = now() + o.waitMs;
  for (let readings = 1; ; readings++) {
    const verdict = await readOnce(client, o);
    if (verdict.kind !== 'pending') return { kind: verdict.kind, message: verdict.message, readings };
    const left = deadline - now();
    if (left <= 0) {
      const waited = o.waitMs > 0 ? `after waiting ${Math.round(o.waitMs / 1000)}s` : 'without --wait';
      return { kind: 'timeout', message: `${verdict.message} (${waited}, ${readings} reading${readings === 1 ? '' : 's'})`, readings };
    }
    o.onPending?.(verdict);
    await sleep(Math.min(o.pollMs, left));
  }
}
