// The load: the simulated agents over real HTTP on keep-alive sockets, a bounded number in flight
// per server. Enrollment first (the fleet token, as a new node does), then each agent reports at its
// own offset on the interval (reportOffsetMs, the real agent's spread), until the duration ends.
import { Agent as HttpAgent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { reportOffsetMs } from '../../agent/src/core/poll-schedule.js';
import { nextReport, type SimAgent } from '../../test/helpers/fleet-model.js';
import type { Outcome } from './stats.js';

/** A request still unanswered after this is an error, so a run always ends. */
const REQUEST_TIMEOUT_MS = 30_000;

export interface Target {
  readonly url: string;
  readonly http: HttpAgent;
}

export function target(url: string, concurrency: number): Target {
  return { url, http: new HttpAgent({ keepAlive: true, maxSockets: concurrency }) };
}

export interface Answer {
  status: number;
  body: string;
}

/**
 * One request; never rejects (a socket error is status 0). A keep-alive socket the server closed
 * as idle just as the request went out resets: that one is sent again once on a fresh socket, as
 * Node's documentation advises (the controller counts a report's events once by id, so a repeat is
 * harmless).
 */
export function send(to: Target, method: string, path: string, token: string, body?: string, retried = false): Promise<Answer> {
  return new Promise((resolve) => {
    const headers: Record<string, string | number> = { authorization: `Bearer ${token}` };
    if (body !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    const req = request(new URL(path, to.url), { method, agent: to.http, headers, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', () => resolve({ status: 0, body: 'response aborted' }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (!retried && req.reusedSocket && err.code === 'ECONNRESET') resolve(send(to, method, path, token, body, true));
      else resolve({ status: 0, body: err.message });
    });
    req.end(body);
  });
}

/** At most `limit` of `run` at once, over items in order. */
async function bounded<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await run(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Enrolls every agent on its server; answers each agent's own token (by index) and the failures. */
export async function enrollAll(agents: readonly SimAgent[], targetOf: (a: SimAgent) => Target, enrollToken: string, concurrency: number): Promise<{ tokens: string[]; failures: string[] }> {
  const tokens: string[] = [];
  const failures: string[] = [];
  await bounded(agents, concurrency, async (agent) => {
    const answer = await send(targetOf(agent), 'POST', '/api/v1/agents/register', enrollToken, JSON.stringify({ agentId: agent.agentId, facts: agent.facts }));
    if (answer.status === 201) tokens[agent.index] = (JSON.parse(answer.body) as { token: string }).token;
    else failures.push(`${agent.agentId}: ${answer.status} ${answer.body.slice(0, 200)}`);
  });
  return { tokens, failures };
}

export interface ScheduleOptions {
  agents: readonly SimAgent[];
  intervalMs: number;
  durationMs: number;
  concurrency: number;
  targetOf(agent: SimAgent): Target;
  tokenOf(agent: SimAgent): string;
  /** Run start, for the clock the outcomes are measured on. */
  onStart?(startedAt: number): void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Every agent reports on its own grid (start + offset + k × interval) until the duration ends, each
 * report made at its turn; at most `concurrency` in flight, so a slow server makes sends late (the
 * lag) rather than piling up sockets. At the end of the duration nothing more is sent (the turns
 * left are `missed`); the last answers are awaited, each bounded by its timeout.
 */
export async function runSchedule(opts: ScheduleOptions): Promise<{ outcomes: Outcome[]; firstError: string | null; turns: number; missed: number }> {
  const order = opts.agents.map((agent) => ({ agent, offset: reportOffsetMs(agent.agentId, opts.intervalMs) })).sort((a, b) => a.offset - b.offset);
  const turns = order.reduce((sum, { offset }) => sum + Math.max(0, Math.ceil((opts.durationMs - offset) / opts.intervalMs)), 0);
  const outcomes: Outcome[] = [];
  let firstError: string | null = null;
  let sent = 0;
  let inFlight = 0;
  let freed: (() => void) | null = null;
  const pending = new Set<Promise<void>>();
  const start = performance.now();
  opts.onStart?.(start);
  const finish = async (): Promise<{ outcomes: Outcome[]; firstError: string | null; turns: number; missed: number }> => {
    await Promise.all(pending);
    return { outcomes, firstError, turns, missed: turns - sent };
  };
  for (let round = 0; ; round++) {
    for (const { agent, offset } of order) {
      const due = round * opts.intervalMs + offset;
      if (due >= opts.durationMs) return finish();
      const wait = due - (performance.now() - start);
      if (wait > 1) await sleep(wait);
      while (inFlight >= opts.concurrency) await new Promise<void>((r) => (freed = r));
      if (performance.now() - start >= opts.durationMs) return finish();
      const { report } = nextReport(agent, round, new Date());
      const sentAt = performance.now() - start;
      inFlight++;
      sent++;
      const one = send(opts.targetOf(agent), 'POST', '/api/v1/reports', opts.tokenOf(agent), JSON.stringify(report)).then((answer) => {
        const doneAt = performance.now() - start;
        const ok = answer.status >= 200 && answer.status < 300;
        if (!ok && firstError === null) firstError = `${agent.agentId}: ${answer.status} ${answer.body.slice(0, 300)}`;
        outcomes.push({ doneAt, latencyMs: doneAt - sentAt, lagMs: Math.max(0, sentAt - due), ok });
        inFlight--;
        pending.delete(one);
        const wake = freed;
        freed = null;
        wake?.();
      });
      pending.add(one);
    }
  }
}
