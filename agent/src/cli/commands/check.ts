import { defineCommand } from 'citty';
import { configPath } from '../../agent-config.js';
import { openAgent, verifyChannel } from '../../agent.js';
import { DAEMON, instanceHolder } from '../../adapters/instance-lock.js';
import { desiredAndPlan } from '../../desired-state.js';
import { configArg, jsonArg } from '../common-args.js';
import { desiredJson, printDesired } from '../desired-output.js';
import { createOutput } from '../output.js';
import { fetchThroughDaemon } from '../request-command.js';
import { acceptedJson, printAccepted } from './verify.js';

export default defineCommand({
  meta: {
    name: 'check',
    description:
      'Fetch and verify the channel, merge the overlay, and show what this node would do and why: each app current/desired/decision/reason and the plan. Executes nothing.',
  },
  args: { ...configArg, ...jsonArg },
  async run({ args }) {
    const out = createOutput(args.json);
    const agent = await openAgent(configPath(args.config));
    const holder = await instanceHolder(agent.config.stateDir);
    if (holder?.what === DAEMON) {
      const { agent: fresh, view, fetched } = await fetchThroughDaemon(configPath(args.config), agent, holder.pid);
      for (const line of fetched.lines) out.line(line);
      const result = await desiredAndPlan(fresh, view);
      out.line(`group      ${view.content.groupName} (${view.content.groupFile})`);
      printDesired(out, result, fresh.clock());
      out.result({ ok: true, channel: fetched.data?.channel, group: view.content.groupName, fetchedBy: { pid: holder.pid }, ...desiredJson(result) });
      return;
    }
    const accepted = await verifyChannel(agent);
    const result = await desiredAndPlan(agent, { commit: accepted.anchor.commit, content: accepted.content, tree: accepted.tree });
    printAccepted(out, accepted, agent.clock());
    out.line(`group      ${accepted.content.groupName} (${accepted.content.groupFile})`);
    printDesired(out, result, agent.clock());
    out.result({ ok: true, channel: acceptedJson(accepted), group: accepted.content.groupName, ...desiredJson(result) });
  },
});
