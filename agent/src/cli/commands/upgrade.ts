import { defineCommand } from 'citty';
import { configPath } from '../../agent-config.js';
import type { Agent } from '../../agent.js';
import { openAgent, verifyChannel } from '../../agent.js';
import { acquireInstanceLock, DAEMON, instanceHolder } from '../../adapters/instance-lock.js';
import { DuckError } from '../../../../schemas/errors.js';
import type { AcceptedView } from '../../desired-state.js';
import { desiredAndPlan } from '../../desired-state.js';
import { configArg, jsonArg } from '../common-args.js';
import { createOutput } from '../output.js';
import { ask } from '../prompt.js';
import { fetchThroughDaemon, runRequest } from '../request-command.js';

export default defineCommand({
  meta: {
    name: 'upgrade',
    description:
      'Move now to the version the channel (or a pin) asks for, outside windows and manual approval: shows current and target versions and the release notes, asks, then applies with backup, health check and rollback. With duck run running, it does the change.',
  },
  args: {
    app: { type: 'positional', required: false, description: 'only this app (default: every app with a pending change)' },
    yes: { type: 'boolean', description: 'do not ask', default: false },
    force: { type: 'boolean', description: 'go ahead although the app holds its update lock', default: false },
    ...configArg,
    ...jsonArg,
  },
  async run({ args }) {
    const out = createOutput(args.json);
    const { agent, view } = await currentView(configPath(args.config));
    const only = args.app ? [args.app] : null;
    const { desired } = await desiredAndPlan(agent, view, { upgradeNow: only ? new Set(only) : 'all' });
    if (args.app && !desired.apps.some((a) => a.app === args.app)) throw new DuckError('usage', `no app "${args.app}" in this node's group or overlay`);
    const wanted = desired.apps.filter((a) => !only || only.includes(a.app));
    for (const a of wanted.filter((x) => x.decision === 'wait')) out.line(`${a.app}: not moving: ${a.reason}`);
    const moving = wanted.filter((a) => a.decision === 'apply');
    if (moving.length === 0) {
      out.line('nothing to upgrade');
      out.result({ ok: true, changes: [] });
      return;
    }
    for (const a of moving) {
      out.line(`${a.app}: ${a.current ?? 'not installed'} -> ${a.desired}`);
      if (a.release?.notes) out.line(a.release.notes.trim().replace(/^/gm, '    '));
    }
    if (!args.yes && (await ask('Apply now? [y/N] ', '--yes')).toLowerCase() !== 'y') {
      out.line('nothing changed');
      out.result({ ok: true, changes: [], cancelled: true });
      return;
    }
    const targets = Object.fromEntries(moving.map((a) => [a.app, a.desired!]));
    await runRequest(agent, { kind: 'upgrade', apps: moving.map((a) => a.app), targets, force: args.force }, out);
  },
});

/**
 * The channel as of now: fetched and verified here, or by duck run when it holds the state directory.
 */
async function currentView(config: string): Promise<{ agent: Agent; view: AcceptedView }> {
  const agent = await openAgent(config);
  const holder = await instanceHolder(agent.config.stateDir);
  if (holder?.what === DAEMON) {
    const { agent: fresh, view, fetched } = await fetchThroughDaemon(config, agent, holder.pid);
    for (const line of fetched.lines) process.stderr.write(`${line}\n`);
    return { agent: fresh, view };
  }
  const lock = await acquireInstanceLock(agent.config.stateDir, 'duck upgrade');
  try {
    const accepted = await verifyChannel(agent);
    return { agent, view: { commit: accepted.anchor.commit, content: accepted.content, tree: accepted.tree } };
  } finally {
    await lock.release();
  }
}
