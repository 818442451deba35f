import { resolve } from 'node:path';
import { defineCommand } from 'citty';
import { commitAll, commitWithGnupg } from '../../../release/commit-writer.js';
import { openLocalRepo } from '../../../release/local-repo.js';
import { loadSigningKey } from '../../../release/signing-key.js';
import { channelArg, keyArgs } from '../../release-args.js';
import { jsonArg } from '../../common-args.js';
import { createOutput, shortOid } from '../../output.js';

export default defineCommand({
  meta: {
    name: 'commit',
    description:
      'Stage every change (like git add -A) and commit: signed with openpgp.js when a key is given (--key or $DUCK_SIGNING_KEY), with GnuPG (git commit -S) for -S without a key, else unsigned with a warning',
  },
  args: {
    message: { type: 'string', alias: 'm', description: 'the commit message', valueHint: 'text', required: true },
    S: { type: 'boolean', description: 'sign with GnuPG (git commit -S) when no key is given', default: false },
    ...keyArgs,
    ...channelArg,
    ...jsonArg,
  },
  async run({ args }) {
    const out = createOutput(args.json);
    const dir = resolve(args.channel);
    const repo = await openLocalRepo(dir);
    const key = await loadSigningKey({ file: args.key, passphraseEnv: args['passphrase-env'], env: process.env });
    let commit: string;
    let signedWith: 'openpgp.js' | 'gnupg' | null;
    if (key) {
      commit = await commitAll(repo, args.message, key, process.env);
      signedWith = 'openpgp.js';
    } else if (args.S) {
      commit = await commitWithGnupg(dir, args.message, process.env);
      signedWith = 'gnupg';
    } else {
      commit = await commitAll(repo, args.message, null, process.env);
      signedWith = null;
    }
    out.line(`committed ${shortOid(commit)}${key ? ` signed by ${key.fingerprint}` : signedWith ? ' signed with GnuPG' : ''}`);
    if (!signedWith) out.warn('the commit is unsigned: agents refuse an unsigned tip (sign it with duck release sign, or commit with --key or -S)');
    out.result({ ok: true, commit, signed: signedWith !== null, signedWith, fingerprint: key?.fingerprint ?? null });
  },
});
