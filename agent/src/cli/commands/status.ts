import { defineCommand } from 'citty';
import { configPath } from '../../agent-config.js';
import { openAgent } from '../../agent.js';
import { formatDuration } from '../../core/duration.js';
import { desiredAndPlan, readAcceptedLocally } from '../../desired-state.js';
import { configArg, jsonArg } from '../common-args.js';
import { desiredJson, printDesired } from '../desired-output.js';
import { createOutput, shortOid } from '../output.js';

export default defineCommand({
  meta: {
    name: 'status',
    description: 'Show this node from its local state, without fetching: accepted commit and age, per app current/desired/decision/reason, windows, hold, pins, last result',
  },
  args: { ...configArg, ...jsonArg },
  async run({ args }) {
    const out = createOutput(args.json);
    const agent = await openAgent(configPath(args.config));
    const now = agent.clock();
    const state = agent.state.read();
    const anchor = state.channel.anchor;
    const accepted = await readAcceptedLocally(agent);
    const channel = {
      url: agent.config.channel.url,
      accepted: anchor ? { ...anchor, ageMs: now.getTime() - Date.parse(anchor.committedAt) } : null,
      lastCheckAt: state.channel.lastCheckAt,
      lastRefusal: state.channel.lastRefusal,
    };
    out.line(`channel    ${agent.config.channel.url} (${agent.config.channel.branch})`);
    if (anchor) {
      out.line(`accepted   ${shortOid(anchor.commit)} signed by ${anchor.signerName}, committed ${anchor.committedAt} (${formatDuration(now.getTime() - Date.parse(anchor.committedAt))} ago)`);
    } else out.line('accepted   nothing yet (run duck verify or duck run)');
    if (state.channel.lastRefusal) out.line(`last check refused at ${state.channel.lastRefusal.at}: ${state.channel.lastRefusal.reason}: ${state.channel.lastRefusal.message}`);
    out.line(`group      ${agent.config.group}`);
    for (const [app, f] of Object.entries(state.failed)) out.line(`failed     ${app} ${f.version} at ${f.at}: ${f.reason}`);
    if (!accepted) {
      out.result({ ok: true, channel, group: agent.config.group, apps: [], failed: state.failed });
      return;
    }
    const result = await desiredAndPlan(agent, accepted);
    printDesired(out, result, now);
    out.result({ ok: true, channel, group: agent.config.group, failed: state.failed, ...desiredJson(result) });
  },
});
