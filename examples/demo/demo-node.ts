/**
 * The demo's one node: the real `duck run` from dist/ with its own config, state directory and
 * overlay in a temp dir, polling the served channel every few seconds and reporting to the
 * controller. examples/harness's agent-node and daemon, which the e2e suites drive the agent with,
 * serve here too, so the demo and the tests run the agent the same way.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HistoryEntry } from '../../agent/src/core/agent-state.js';
import type { AgentNode } from '../harness/agent-node.js';
import { makeAgentNode } from '../harness/agent-node.js';
import type { Daemon, LogEvent } from '../harness/daemon.js';
import { startDaemon } from '../harness/daemon.js';
import type { TestKey } from '../harness/keys.js';
import { HELLO_APP } from '../hello/app.js';
import { DEMO_GROUP } from './channel-publisher.js';

/** How often the demo's agent polls the channel and reports: short, so each stage is quick. */
export const DEMO_INTERVAL = '2s';

export interface AppStatus {
  app: string;
  current: string | null;
  desired: string | null;
  source?: string;
  decision: string;
  reason: string;
}

export interface NodeStatus {
  channel: { accepted: { commit: string } | null };
  apps?: AppStatus[];
  failed?: Record<string, unknown>;
}

export interface DemoNode {
  readonly node: AgentNode;
  readonly port: number;
  daemon: Daemon | null;
  agentId: string | null;
  start(): Promise<void>;
  /** What the app serves at /version.txt, or null while nothing answers. */
  served(): Promise<string | null>;
  /** The app's data file (data/web/starts.log): one line per start, kept across changes. */
  startsLog(): Promise<string>;
  history(): Promise<HistoryEntry[]>;
  status(): Promise<NodeStatus>;
  duck(...args: string[]): Promise<string>;
  /** Waits for the agent's next `outcome` for hello -> `to`; fails on another outcome. */
  outcome(to: string, expected: string, fromEvent: number, timeoutMs?: number): Promise<LogEvent>;
}

export async function makeDemoNode(opts: {
  channelUrl: string;
  rootKey: TestKey;
  controller: { url: string; enrollToken: string };
  port: number;
}): Promise<DemoNode> {
  // Polls every few seconds and reports to the demo's controller.
  const node = await makeAgentNode({
    url: opts.channelUrl,
    rootKeys: [opts.rootKey],
    group: DEMO_GROUP,
    interval: DEMO_INTERVAL,
    controller: { url: opts.controller.url, enrollToken: opts.controller.enrollToken, interval: DEMO_INTERVAL },
  });
  await writeFile(
    node.overlayFile,
    "# The operator's overlay: this node publishes hello on a free loopback port.\n" +
      `compose:\n  ${HELLO_APP}:\n    env: { HELLO_PORT: "${opts.port}" }\n`,
  );

  const cli = async (...args: string[]): Promise<string> => {
    const result = await node.duck(...args);
    if (result.code !== 0) throw new Error(`duck ${args.join(' ')} exited with ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`);
    return result.stdout;
  };

  const demo: DemoNode = {
    node,
    port: opts.port,
    daemon: null,
    agentId: null,
    start: async () => {
      demo.daemon = startDaemon(node);
      const started = await demo.daemon.waitFor((e) => e.event === 'start', 'the agent starting', { timeoutMs: 30_000 });
      demo.agentId = String(started.agentId);
    },
    served: async () => {
      try {
        const res = await fetch(`http://127.0.0.1:${opts.port}/version.txt`, { signal: AbortSignal.timeout(2_000) });
        return res.ok ? (await res.text()).trim() : null;
      } catch {
        return null;
      }
    },
    startsLog: () => readFile(join(node.stateDir, 'apps', HELLO_APP, 'data', 'web', 'starts.log'), 'utf8'),
    history: async () => (JSON.parse(await cli('history', HELLO_APP, '--json')) as { history: HistoryEntry[] }).history,
    status: async () => JSON.parse(await cli('status', '--json')) as NodeStatus,
    duck: cli,
    outcome: async (to, expected, fromEvent, timeoutMs = 180_000) => {
      if (!demo.daemon) throw new Error('the agent is not running');
      const event = await demo.daemon.waitFor(
        (e) => e.event === 'outcome' && e.app === HELLO_APP && e.to === to,
        `an outcome for ${HELLO_APP} -> ${to}`,
        { timeoutMs, from: fromEvent },
      );
      if (event.outcome !== expected) throw new Error(`expected ${expected} -> ${to}, the agent says ${String(event.outcome)}: ${String(event.reason)}`);
      return event;
    },
  };
  return demo;
}
