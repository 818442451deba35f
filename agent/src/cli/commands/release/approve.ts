import { resolve } from 'node:path';
import { defineCommand } from 'citty';
import { approveCommit } from '../../../release/approval.js';
import { openLocalRepo } from '../../../release/local-repo.js';
import { loadSigningKey } from '../../../release/signing-key.js';
import { channelArg, keyArgs } from '../../release-args.js';
import { jsonArg } from '../../common-args.js';
import { createOutput, shortOid } from '../../output.js';

export default defineCommand({
  meta: {
    name: 'approve',
    description:
      "Approve a commit for channel.yaml's thresholds (the two-person rule): an empty commit 'approve <id>' on the current branch, signed with openpgp.js (--key or $DUCK_SIGNING_KEY) or else with GnuPG (git commit -S). Refused when HEAD's guarded files differ from the approved commit's.",
  },
  args: {
    commit: { type: 'positional', description: 'the commit to approve (a revision: HEAD, a branch, an id)', valueHint: 'commit', required: true },
    ...keyArgs,
    ...channelArg,
    ...jsonArg,
  },
  async run({ args }) {
    const out = createOutput(args.json);
    const repo = await openLocalRepo(resolve(args.channel));
    const key = await loadSigningKey({ file: args.key, passphraseEnv: args['passphrase-env'], env: process.env });
    const { approved, commit } = await approveCommit(repo, args.commit, key, process.env);
    out.line(`approved ${shortOid(approved)} with ${shortOid(commit)}${key ? ` signed by ${key.fingerprint}` : ' signed with GnuPG'}`);
    out.result({ ok: true, approved, commit, signedWith: key ? 'openpgp.js' : 'gnupg', fingerprint: key?.fingerprint ?? null });
  },
});
