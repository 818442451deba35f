import { resolve } from 'node:path';
import { defineCommand } from 'citty';
import { DuckError } from '../../../../../schemas/errors.js';
import { resignHead } from '../../../release/commit-writer.js';
import { openLocalRepo } from '../../../release/local-repo.js';
import { loadSigningKey, SIGNING_KEY_ENV } from '../../../release/signing-key.js';
import { channelArg, keyArgs } from '../../release-args.js';
import { jsonArg } from '../../common-args.js';
import { createOutput, shortOid } from '../../output.js';

export default defineCommand({
  meta: {
    name: 'sign',
    description:
      'Re-sign HEAD with openpgp.js: the same tree, parents, author, committer and message, a new signature (after a CI merge or a git revert). Refuses while tracked files have uncommitted changes.',
  },
  args: { ...keyArgs, ...channelArg, ...jsonArg },
  async run({ args }) {
    const out = createOutput(args.json);
    const key = await loadSigningKey({ file: args.key, passphraseEnv: args['passphrase-env'], env: process.env });
    if (!key) throw new DuckError('usage', `no signing key: pass --key <file> or set $${SIGNING_KEY_ENV} to the armored private key`);
    const repo = await openLocalRepo(resolve(args.channel));
    const { previous, commit } = await resignHead(repo, key);
    out.line(`signed ${shortOid(previous)} as ${shortOid(commit)} with ${key.fingerprint}; push it (the old id is replaced)`);
    out.result({ ok: true, previous, commit, fingerprint: key.fingerprint });
  },
});
