// The simulated fleet (pure): who the agents are, and what each one reports at each of its turns —
// the real agent's report shape (schemas/report.schema.json), mostly heartbeats with the app list,
// some upgrades applied, rollbacks, infrastructure failures, channel refusals and window waits, in
// proportions an operator would find plausible. Deterministic: agent i's round r is always the same
// draw, so two runs (and the baseline beside the controller) carry the same reports.
import type { AppStatus, NodeFacts, ReportEvent, ReportMessage } from '../../schemas/index.js';
import { mulberry32 } from './seeded-random.js';

const APPS = ['shop', 'blog', 'metrics'] as const;
const GROUPS = [
  { name: 'canary', share: 0.05 },
  { name: 'staging', share: 0.15 },
  { name: 'production', share: 0.8 },
] as const;

/** Per report, the chance of each kind of turn; the rest are heartbeats. */
export const MIX = { upgrade: 0.05, rollback: 0.02, infraFailure: 0.01, refusal: 0.01, windowWait: 0.01 } as const;

export type TurnKind = 'heartbeat' | keyof typeof MIX;

export interface SimAgent {
  readonly index: number;
  readonly agentId: string;
  readonly group: string;
  readonly facts: NodeFacts;
  /** app → the minor of the 1.x.0 it runs. */
  readonly minors: Map<string, number>;
  /** Events sent so far, for unique ids. */
  seq: number;
}

/** A draw per (agent, round) with no shared state. */
const draw = mulberry32;

export function makeAgent(index: number, prefix: string): SimAgent {
  const rnd = draw(index * 7919 + 1);
  const pick = rnd();
  let acc = 0;
  const group = GROUPS.find((g) => pick < (acc += g.share))?.name ?? 'production';
  const appCount = 2 + (index % 2);
  const hostname = `${group}-${String(index).padStart(6, '0')}`;
  return {
    index,
    agentId: `${prefix}-${String(index).padStart(6, '0')}`,
    group,
    facts: { hostname, os: 'linux 6.1.0-28-amd64 (Debian GNU/Linux 12 (bookworm))', arch: index % 5 === 0 ? 'arm64' : 'x64', agentVersion: '0.1.0', docker: '27.3.1', compose: 'v2 2.29.7', group },
    minors: new Map(APPS.slice(0, appCount).map((app, k) => [app, 2 + ((index + k) % 3)])),
    seq: 0,
  };
}

export function turnKind(roll: number): TurnKind {
  let acc = 0;
  for (const [kind, share] of Object.entries(MIX) as [keyof typeof MIX, number][]) if (roll < (acc += share)) return kind;
  return 'heartbeat';
}

const version = (minor: number): string => `1.${minor}.0`;
const commitOf = (n: number): string => n.toString(16).padStart(8, '0').repeat(5);

/**
 * The agent's report at its `round`-th turn, sent at `now`. Advances the agent (an applied upgrade
 * moves it on), so call it once per turn, in order.
 */
export function nextReport(agent: SimAgent, round: number, now: Date): { report: ReportMessage; kind: TurnKind } {
  const rnd = draw(agent.index * 1_000_003 + round * 97 + 7);
  const kind = turnKind(rnd());
  const apps = [...agent.minors.keys()];
  const app = apps[Math.floor(rnd() * apps.length)]!;
  const at = now.toISOString();
  const events: ReportEvent[] = [];
  const event = (fields: Omit<ReportEvent, 'id' | 'at'>): void => void events.push({ id: `${agent.agentId}-ev-${++agent.seq}`, at, ...fields });
  const minor = agent.minors.get(app)!;
  const statusOf = (name: string): AppStatus => {
    const current = version(agent.minors.get(name)!);
    return { app: name, current, desired: current, groupVersion: current, decision: 'none', reason: `${current} runs`, state: 'running' };
  };
  const statuses = apps.map(statusOf);
  const mine = statuses.find((s) => s.app === app)!;
  let refusal = null;
  switch (kind) {
    case 'upgrade':
      agent.minors.set(app, minor + 1);
      event({ type: 'upgrade', outcome: 'applied', app, from: version(minor), to: version(minor + 1), reason: 'the group asks for it', commit: commitOf(round + 1), ms: 4000 + Math.floor(rnd() * 20_000) });
      Object.assign(mine, statusOf(app));
      break;
    case 'rollback':
      event({ type: 'upgrade', outcome: 'rolled-back', app, from: version(minor), to: version(minor + 1), reason: 'health check failed: http://127.0.0.1:8080/health answered 503', commit: commitOf(round + 1), ms: 60_000, blame: 'release' });
      Object.assign(mine, { desired: version(minor + 1), groupVersion: version(minor + 1), decision: 'wait', waitingFor: 'failed', reason: `${version(minor + 1)} failed here and was rolled back`, failedVersion: version(minor + 1) });
      break;
    case 'infraFailure':
      event({ type: 'upgrade', outcome: 'failed', app, from: version(minor), to: version(minor + 1), reason: 'no space left on device while pulling images', commit: commitOf(round + 1), blame: 'infrastructure' });
      Object.assign(mine, {
        desired: version(minor + 1),
        groupVersion: version(minor + 1),
        decision: 'wait',
        waitingFor: 'backoff',
        reason: 'backing off after a failure that stopped nothing',
        backoff: { cause: 'no-space', message: 'no space left on device', failures: 1, since: at, nextTryAt: new Date(now.getTime() + 300_000).toISOString() },
      });
      break;
    case 'refusal':
      refusal = { reason: 'signature', message: 'the tip commit is not signed by a trusted key', at };
      event({ type: 'channel-refused', reason: 'signature: the tip commit is not signed by a trusted key', commit: commitOf(round + 1) });
      break;
    case 'windowWait':
      Object.assign(mine, { desired: version(minor + 1), groupVersion: version(minor + 1), decision: 'wait', waitingFor: 'window', until: new Date(now.getTime() + 3_600_000).toISOString(), reason: 'outside the maintenance window' });
      break;
    case 'heartbeat':
      break;
  }
  const report: ReportMessage = {
    agentId: agent.agentId,
    sentAt: at,
    status: {
      group: agent.group,
      channel: { commit: commitOf(round), committedAt: at, acceptedAt: at, lastCheckAt: at, stale: false, refusal },
      apps: statuses,
    },
    events,
  };
  return { report, kind };
}
