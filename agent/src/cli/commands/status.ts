import { defineCommand } from 'citty';
import { formatDuration } from '../../core/duration.js';
import { acceptedFreshness, decide, readAcceptedLocally } from '../../node/decisions.js';
import { agentStatusOnNode } from '../../node/agent-decision.js';
import { announcementLine, announcementsOnNode } from '../../node/announcements.js';
import { configArg, jsonArg } from '../common-args.js';
import { desiredJson, printDesired } from '../desired-output.js';
import type { NodeParts } from '../../node/wiring.js';
import { openNode } from '../node-handle.js';
import type { Output } from '../output.js';
import { createOutput, shortOid } from '../output.js';
import { COMMAND_META } from './meta.js';

export default defineCommand({
  meta: COMMAND_META.status,
  args: { ...configArg, ...jsonArg },
  async run({ args }) {
    await printStatus(await openNode(args.config), createOutput(args.json));
  },
});

/** `duck status`: its lines, or its one JSON document (what the console's /api/status serves). */
export async function printStatus(node: NodeParts, out: Output): Promise<void> {
  const now = node.clock();
  const state = node.state.read();
  const anchor = state.channel.anchor;
  const accepted = await readAcceptedLocally(node);
  const { stale, freshness } = acceptedFreshness(node, accepted);
  const fetchFailure = state.channel.fetchFailure ?? null;
  const channel = {
    url: node.config.channel.url,
    accepted: anchor ? { ...anchor, ageMs: now.getTime() - Date.parse(anchor.committedAt) } : null,
    stale,
    freshness,
    lastCheckAt: state.channel.lastCheckAt,
    lastRefusal: state.channel.lastRefusal,
    fetchFailure,
  };
  out.line(`channel    ${node.config.channel.url} (${node.config.channel.branch})`);
  if (anchor) {
    out.line(`accepted   ${shortOid(anchor.commit)} signed by ${anchor.signerName}, committed ${anchor.committedAt} (${formatDuration(now.getTime() - Date.parse(anchor.committedAt))} ago)`);
  } else out.line('accepted   nothing yet (run duck verify or duck run)');
  if (stale) out.line(`stale      the accepted commit is older than the channel's freshness (${freshness}): a newer release may be withheld; duck verify says why`);
  if (fetchFailure) {
    out.line(
      `unreachable since ${fetchFailure.since} (${fetchFailure.failures} failed fetch(es), last at ${fetchFailure.at}): ${fetchFailure.reason}: ${fetchFailure.message}; ` +
        `next try at ${fetchFailure.nextTryAt}`,
    );
  }
  if (state.channel.lastRefusal) out.line(`last check refused at ${state.channel.lastRefusal.at}: ${state.channel.lastRefusal.reason}: ${state.channel.lastRefusal.message}`);
  out.line(`group      ${node.config.group}`);
  for (const [app, f] of Object.entries(state.failed)) out.line(`failed     ${app} ${f.version} at ${f.at}: ${f.reason}`);
  const { status: agent, lines } = await agentStatusOnNode(node, accepted);
  for (const line of lines) out.line(line);
  const notices = await announcementsOnNode(node, accepted);
  for (const a of notices.inForce) out.line(announcementLine(a, state.acknowledged[a.id]));
  if (notices.unreadable) out.line(`notices    unreadable: ${notices.unreadable}`);
  const inForce = notices.inForce.map((a) => ({ ...a, acknowledgedAt: state.acknowledged[a.id] ?? null }));
  const announcements = { inForce, unreadable: notices.unreadable };
  if (!accepted) {
    out.result({ ok: true, channel, group: node.config.group, agent, announcements, apps: [], failed: state.failed });
    return;
  }
  const decisions = await decide(node, accepted);
  printDesired(out, decisions, now, state);
  out.result(() => ({ ok: true, channel, group: node.config.group, agent, announcements, failed: state.failed, ...desiredJson(decisions, state) }));
}
