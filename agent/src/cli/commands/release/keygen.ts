import { basename, dirname, join, resolve } from 'node:path';
import { defineCommand } from 'citty';
import { DuckError } from '../../../../../schemas/errors.js';
import { generateSigningKey, writeKeyPair } from '../../../release/key-generation.js';
import { SIGNING_KEY_ENV } from '../../../release/signing-key.js';
import { jsonArg } from '../../common-args.js';
import { createOutput } from '../../output.js';

export default defineCommand({
  meta: {
    name: 'keygen',
    description:
      'Make an OpenPGP signing key with openpgp.js (no GnuPG needed): the private key to --output (mode 0600, never overwritten), the public key beside it, and the channel.yaml entry that lists it',
  },
  args: {
    name: { type: 'positional', description: "the signer's name: its key file in the channel is keys/<name>.asc", required: true },
    output: { type: 'string', description: 'where to write the armored private key; keep it out of the channel repository', valueHint: 'file', required: true },
    public: { type: 'string', description: 'where to write the armored public key (default: <name>.asc beside --output)', valueHint: 'file' },
    email: { type: 'string', description: "an e-mail address for the key's user id (commit identities use it)", valueHint: 'address' },
    'passphrase-env': { type: 'string', description: 'protect the key with the passphrase held in this environment variable', valueHint: 'VAR' },
    promote: {
      type: 'boolean',
      description: 'a promotion-only key (channel.yaml scope: promote), e.g. for a CI bot: it may move groups among published versions, never publish content or change signers',
    },
    ...jsonArg,
  },
  async run({ args }) {
    const out = createOutput(args.json);
    // The name is also a file name, in the channel (keys/<name>.asc) and beside --output.
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(args.name)) throw new DuckError('usage', `signer name "${args.name}": letters, digits, ".", "_" and "-" only, as in release-bot`);
    const variable = args['passphrase-env'];
    const passphrase = variable === undefined ? undefined : process.env[variable];
    if (variable !== undefined && !passphrase) throw new DuckError('usage', `--passphrase-env ${variable}: $${variable} is not set or empty`);
    const privateFile = resolve(args.output);
    const publicFile = resolve(args.public ?? join(dirname(privateFile), `${args.name}.asc`));
    const key = await generateSigningKey({ name: args.name, email: args.email, passphrase });
    await writeKeyPair(key, { privateFile, publicFile });
    const scope = args.promote === true ? 'promote' : undefined;
    const entry = `  - name: ${args.name}\n    key: keys/${args.name}.asc     # fingerprint ${key.fingerprint}${scope ? `\n    scope: ${scope}` : ''}`;
    out.line(`private key  ${privateFile} (mode 0600${passphrase ? ', passphrase-protected' : ''}): keep it secret, out of the channel repository; in CI, its text is $${SIGNING_KEY_ENV}`);
    out.line(`public key   ${publicFile}`);
    out.line(`fingerprint  ${key.fingerprint}`);
    out.line('');
    if (!scope) out.line(`a new channel: duck release init <dir> --key ${privateFile}${passphrase ? ` --passphrase-env ${variable}` : ''} (it lists this key as the first signer)`);
    out.line(`an existing channel: copy ${basename(publicFile)} to keys/${args.name}.asc, add under signers in channel.yaml, raise its version, and sign that commit with a key trusted now:`);
    out.line(entry);
    out.line(`nodes that should trust it from the start: duck init --trust-key ${publicFile}`);
    out.result({ ok: true, name: args.name, fingerprint: key.fingerprint, privateKey: privateFile, publicKey: publicFile, signerEntry: { name: args.name, key: `keys/${args.name}.asc`, ...(scope ? { scope } : {}) } });
  },
});
