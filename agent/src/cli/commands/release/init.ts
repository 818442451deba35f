import { resolve } from 'node:path';
import { defineCommand } from 'citty';
import { initChannel } from '../../../release/channel-template.js';
import { loadSigningKey } from '../../../release/signing-key.js';
import { keyArgs } from '../../release-args.js';
import { jsonArg } from '../../common-args.js';
import { createOutput, shortOid } from '../../output.js';

export default defineCommand({
  meta: {
    name: 'init',
    description:
      'Create a release channel from the template (README, CI files, groups, the example app) as a git repository with its first commit, signed when a key is given',
  },
  args: {
    dir: { type: 'positional', description: 'the new channel directory (must not exist, or be empty)', required: true },
    ...keyArgs,
    name: { type: 'string', description: "the signer's name in channel.yaml and keys/<name>.asc (default: the key's user id)", valueHint: 'name' },
    empty: { type: 'boolean', description: 'leave out the example app: no releases, groups that pin nothing', default: false },
    ...jsonArg,
  },
  async run({ args }) {
    const out = createOutput(args.json);
    const key = await loadSigningKey({ file: args.key, passphraseEnv: args['passphrase-env'], env: process.env });
    const dir = resolve(args.dir);
    const result = await initChannel({ dir, key, name: args.name, empty: args.empty, env: process.env });
    out.line(`created the channel ${dir}, first commit ${shortOid(result.commit)}${result.signed ? ` signed by ${key!.fingerprint}` : ''}`);
    if (key && result.keyFile) {
      out.line(`  signer     ${result.keyFile} (fingerprint ${key.fingerprint})`);
      out.line(`  nodes      install ${result.keyFile} as the agent's root key: duck init --trust-key <path>`);
    } else {
      out.warn('the first commit is unsigned and channel.yaml lists no signer: agents refuse unsigned commits. Add a signer (see README.md) and sign with duck release commit --key or git commit -S');
    }
    out.line('  next       duck release add <app> <version> --from <build-dir>; duck release lint; duck release commit -m "…"');
    out.result({ ok: true, dir, commit: result.commit, signed: result.signed, fingerprint: key?.fingerprint ?? null, keyFile: result.keyFile });
  },
});
