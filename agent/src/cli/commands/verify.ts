import { defineCommand } from 'citty';
import type { WarningCode } from '../../../../schemas/errors.js';
import { formatDuration } from '../../core/duration.js';
import type { FetchedChannelData } from '../../core/operator-request.js';
import { configArg, jsonArg } from '../common-args.js';
import type { Output } from '../output.js';
import { createOutput, shortOid } from '../output.js';
import { fetchNow } from '../request-command.js';
import { COMMAND_META } from './meta.js';

export default defineCommand({
  meta: COMMAND_META.verify,
  args: {
    ...configArg,
    ...jsonArg,
    'allow-reset': {
      type: 'boolean',
      description: 'When the state has no accepted commit (lost), accept a tip that does not descend from the commits the running stacks were deployed from: a deliberate reset of the channel history. Signatures and every other rule still apply.',
    },
  },
  async run({ args }) {
    const out = createOutput(args.json);
    const { node, fetched } = await fetchNow(args.config, { allowReset: args['allow-reset'] === true });
    const channel = channelOf(fetched.data);
    printAccepted(out, channel, node.clock());
    out.result({ ok: true, ...acceptedJson(channel) });
  },
});

export function channelOf(data: Record<string, unknown> | undefined): FetchedChannelData {
  return data?.channel as FetchedChannelData;
}

export function acceptedJson(a: FetchedChannelData): Record<string, unknown> {
  return {
    commit: a.commit,
    signer: a.signer,
    committedAt: a.committedAt,
    channelVersion: a.channelVersion,
    changed: a.changed,
    fetched: a.fetched,
    stale: a.stale,
    ...(a.stale ? { warnings: [{ reason: 'stale' satisfies WarningCode, message: staleMessage(a) }] } : {}),
    passedOver: a.passedOver,
    ...(a.signerScope ? { signerScope: a.signerScope, promotionBase: a.promotionBase ?? null } : {}),
    thresholds: a.thresholds ?? [],
  };
}

export function printAccepted(out: Output, a: FetchedChannelData, now: Date): void {
  const age = formatDuration(now.getTime() - Date.parse(a.committedAt));
  out.line(`accepted ${shortOid(a.commit)} ${a.changed ? '(new)' : '(unchanged)'}`);
  out.line(`  signed by  ${a.signer.name} ${a.signer.fingerprint}${a.signerScope === 'promote' ? ` (promotion checked against ${shortOid(a.promotionBase ?? '')})` : ''}`);
  out.line(`  committed  ${a.committedAt} (${age} ago)`);
  out.line(`  channel    version ${a.channelVersion}, group ${a.group}`);
  for (const p of a.passedOver) out.line(`  passed over ${shortOid(p.commit)}: ${p.reason}`);
  for (const t of a.thresholds ?? []) out.line(`  threshold  ${t.paths.join(', ')}: ${t.count} needed, signed by ${t.signers.join(', ')}`);
  if (a.stale) out.warn(`stale: ${staleMessage(a)}`);
}

function staleMessage(a: FetchedChannelData): string {
  return `the accepted commit ${shortOid(a.commit)} is older than the channel's freshness of ${formatDuration(a.freshnessMs ?? 0)}: a newer release may be withheld`;
}
