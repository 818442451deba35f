import type { ArgsDef } from 'citty';
import { SIGNING_KEY_ENV } from '../release/signing-key.js';

export const channelArg = {
  channel: { type: 'string', description: 'the channel repository (default: the current directory)', valueHint: 'dir', default: '.' },
} as const satisfies ArgsDef;

export const keyArgs = {
  key: { type: 'string', description: `an armored OpenPGP private key to sign with (default: $${SIGNING_KEY_ENV}, the key text)`, valueHint: 'file' },
  'passphrase-env': { type: 'string', description: 'the environment variable holding the key passphrase', valueHint: 'VAR' },
} as const satisfies ArgsDef;
