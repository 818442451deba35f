import { defineCommand } from 'citty';
import { formatDuration } from '../../core/duration.js';
import { decide, readAcceptedLocally } from '../../node/decisions.js';
import { configArg, jsonArg } from '../common-args.js';
import { desiredJson, printDesired } from '../desired-output.js';
import { openNode } from '../node-handle.js';
import { createOutput, shortOid } from '../output.js';

export default defineCommand({
  meta: {
    name: 'status',
    description: 'Show this node from its local state, without fetching: accepted commit and age, per app current/desired/decision/reason, windows, hold, pins, last result',
  },
  args: { ...configArg, ...jsonArg },
  async run({ args }) {
    const out = createOutput(args.json);
    const node = await openNode(args.config);
    const now = node.clock();
    const state = node.state.read();
    const anchor = state.channel.anchor;
    const accepted = await readAcceptedLocally(node);
    const channel = {
      url: node.config.channel.url,
      accepted: anchor ? { ...anchor, ageMs: now.getTime() - Date.parse(anchor.committedAt) } : null,
      lastCheckAt: state.channel.lastCheckAt,
      lastRefusal: state.channel.lastRefusal,
    };
    out.line(`channel    ${node.config.channel.url} (${node.config.channel.branch})`);
    if (anchor) {
      out.line(`accepted   ${shortOid(anchor.commit)} signed by ${anchor.signerName}, committed ${anchor.committedAt} (${formatDuration(now.getTime() - Date.parse(anchor.committedAt))} ago)`);
    } else out.line('accepted   nothing yet (run duck verify or duck run)');
    if (state.channel.lastRefusal) out.line(`last check refused at ${state.channel.lastRefusal.at}: ${state.channel.lastRefusal.reason}: ${state.channel.lastRefusal.message}`);
    out.line(`group      ${node.config.group}`);
    for (const [app, f] of Object.entries(state.failed)) out.line(`failed     ${app} ${f.version} at ${f.at}: ${f.reason}`);
    if (!accepted) {
      out.result({ ok: true, channel, group: node.config.group, apps: [], failed: state.failed });
      return;
    }
    const decisions = await decide(node, accepted);
    printDesired(out, decisions, now);
    out.result({ ok: true, channel, group: node.config.group, failed: state.failed, ...desiredJson(decisions) });
  },
});
