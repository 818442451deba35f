import { defineCommand } from 'citty';
import { configPath } from '../../agent-config.js';
import { openAgent, verifyChannel } from '../../agent.js';
import { desiredAndPlan } from '../../desired-state.js';
import { configArg, jsonArg } from '../common-args.js';
import { desiredJson, printDesired } from '../desired-output.js';
import { createOutput } from '../output.js';
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
    const accepted = await verifyChannel(agent);
    const result = await desiredAndPlan(agent, { commit: accepted.anchor.commit, content: accepted.content, tree: accepted.tree });
    printAccepted(out, accepted, agent.clock());
    out.line(`group      ${accepted.content.groupName} (${accepted.content.groupFile})`);
    printDesired(out, result, agent.clock());
    out.result({ ok: true, channel: acceptedJson(accepted), group: accepted.content.groupName, ...desiredJson(result) });
  },
});
