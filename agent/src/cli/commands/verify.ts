import { defineCommand } from 'citty';
import { configPath } from '../../agent-config.js';
import { openAgent, verifyChannel } from '../../agent.js';
import type { WarningCode } from '../../../../schemas/errors.js';
import { formatDuration } from '../../core/duration.js';
import type { AcceptedChannel } from '../../channel/accept-channel.js';
import { configArg, jsonArg } from '../common-args.js';
import type { Output } from '../output.js';
import { createOutput, shortOid } from '../output.js';

export default defineCommand({
  meta: { name: 'verify', description: 'Fetch the release channel and verify it: print the accepted commit, or why it was refused (exit 3)' },
  args: { ...configArg, ...jsonArg },
  async run({ args }) {
    const out = createOutput(args.json);
    const agent = await openAgent(configPath(args.config));
    const accepted = await verifyChannel(agent);
    printAccepted(out, accepted, agent.clock());
    out.result({ ok: true, ...acceptedJson(accepted) });
  },
});

export function acceptedJson(a: AcceptedChannel): Record<string, unknown> {
  return {
    commit: a.anchor.commit,
    signer: { name: a.anchor.signerName, fingerprint: a.anchor.signerFingerprint },
    committedAt: a.anchor.committedAt,
    channelVersion: a.anchor.channelVersion,
    changed: a.changed,
    fetched: a.fetched,
    stale: a.stale,
    ...(a.stale ? { warnings: [{ reason: 'stale' satisfies WarningCode, message: staleMessage(a) }] } : {}),
    passedOver: a.passedOver,
  };
}

export function printAccepted(out: Output, a: AcceptedChannel, now: Date): void {
  const age = formatDuration(now.getTime() - Date.parse(a.anchor.committedAt));
  out.line(`accepted ${shortOid(a.anchor.commit)} ${a.changed ? '(new)' : '(unchanged)'}`);
  out.line(`  signed by  ${a.anchor.signerName} ${a.anchor.signerFingerprint}`);
  out.line(`  committed  ${a.anchor.committedAt} (${age} ago)`);
  out.line(`  channel    version ${a.anchor.channelVersion}, group ${a.content.groupName}`);
  for (const p of a.passedOver) out.line(`  passed over ${shortOid(p.commit)}: ${p.reason}`);
  if (a.stale) out.warn(`stale: ${staleMessage(a)}`);
}

function staleMessage(a: AcceptedChannel): string {
  return `the accepted commit ${shortOid(a.anchor.commit)} is older than the channel's freshness of ${formatDuration(a.freshnessMs ?? 0)}: a newer release may be withheld`;
}
