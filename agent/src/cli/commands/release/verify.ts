import { resolve } from 'node:path';
import { defineCommand } from 'citty';
import { openLocalRepo } from '../../../release/local-repo.js';
import { verifyLocal } from '../../../release/verify-local.js';
import { channelArg } from '../../release-args.js';
import { jsonArg } from '../../common-args.js';
import { createOutput, shortOid } from '../../output.js';

export default defineCommand({
  meta: {
    name: 'verify',
    description:
      "Verify the channel's history as an agent would (signatures, trust policy, every group's releases), from the first commit to <ref>; exits 3 with the refusal reason. For CI on the protected branch.",
  },
  args: {
    ref: { type: 'string', description: 'the revision to verify', valueHint: 'ref', default: 'HEAD' },
    'trust-key': {
      type: 'string',
      description: "root public key file(s), comma-separated (default: the signers the channel's first commit lists)",
      valueHint: 'file[,file]',
    },
    ...channelArg,
    ...jsonArg,
  },
  async run({ args }) {
    const out = createOutput(args.json);
    const repo = await openLocalRepo(resolve(args.channel));
    const trustKeyFiles = (args['trust-key'] ?? '').split(',').filter(Boolean).map((f) => resolve(f));
    const v = await verifyLocal(repo, { ref: args.ref, trustKeyFiles, now: new Date() });
    const { accepted } = v.chain;
    out.line(`accepted ${shortOid(accepted.commit)} (${args.ref})`);
    out.line(`  signed by  ${accepted.signer.name} ${accepted.signer.fingerprint}`);
    out.line(`  channel    version ${accepted.policy.channelVersion}; ${v.chain.walked} commits walked from the first, trusting ${v.rootKeys.map((k) => k.fingerprint).join(', ')}`);
    for (const group of v.groups) out.line(`  group      ${group.groupName}: ${Object.entries(group.group.apps).map(([a, ver]) => `${a} ${ver}`).join(', ') || '(no apps)'}`);
    for (const p of v.chain.passedOver) out.line(`  passed over ${shortOid(p.commit)}: ${p.reason}`);
    out.result({
      ok: true,
      commit: accepted.commit,
      signer: accepted.signer,
      channelVersion: accepted.policy.channelVersion,
      groups: Object.fromEntries(v.groups.map((g) => [g.groupName, g.group.apps])),
      passedOver: v.chain.passedOver,
    });
  },
});
