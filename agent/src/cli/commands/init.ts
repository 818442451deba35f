import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { defineCommand } from 'citty';
import { configPath } from '../../node/config.js';
import { DuckError } from '../../../../schemas/errors.js';
import { configArg } from '../common-args.js';
import { createOutput } from '../output.js';
import { COMMAND_META } from './meta.js';

export default defineCommand({
  meta: COMMAND_META.init,
  args: {
    ...configArg,
    url: { type: 'string', description: 'release channel git URL', default: 'https://git.example.com/ops/releases.git' },
    branch: { type: 'string', description: 'channel branch', default: 'main' },
    group: { type: 'string', description: 'the group of nodes this one belongs to', default: 'production' },
    'trust-key': { type: 'string', description: 'public key trusted as root, armored OpenPGP or an OpenSSH .pub (relative to the config)', default: 'keys/root.asc' },
    'state-dir': { type: 'string', description: 'state directory', default: '/var/lib/duck' },
    overlay: { type: 'string', description: 'local overlay file', default: '/etc/duck/overlay.yaml' },
    force: { type: 'boolean', description: 'overwrite an existing config', default: false },
  },
  async run({ args }) {
    const file = configPath(args.config, process.env);
    const text = agentConfigTemplate({
      url: args.url,
      branch: args.branch,
      group: args.group,
      trustKey: args['trust-key'],
      stateDir: args['state-dir'],
      overlay: args.overlay,
    });
    await mkdir(dirname(file), { recursive: true });
    try {
      await writeFile(file, text, { mode: 0o600, flag: args.force ? 'w' : 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new DuckError('config', `${file}: already exists (pass --force to overwrite)`, { file });
      }
      throw err;
    }
    createOutput(false).line(`wrote ${file}; put the root public key at ${args['trust-key']} beside it, then run: duck verify --config ${file}`);
  },
});


export function agentConfigTemplate(v: { url: string; branch: string; group: string; trustKey: string; stateDir: string; overlay: string }): string {
  return `# yaml-language-server: $schema=https://duck.dev/schemas/agent-config.schema.json
# Duck agent configuration. Relative paths are relative to this file.

channel:
  url: ${v.url}      # the release channel (git over HTTPS)
  branch: ${v.branch}
  interval: 60s      # how often to poll; a poll with nothing new is one small ref request
  # token: ...       # or tokenFile: /etc/duck/channel-token (kept out of this file)
  # pointer: https://ops.github.io/releases/tip   # the tip pointer the channel's CI publishes: no git request while it is unchanged
  # mirrors: [https://mirror.example.com/ops/releases.git]   # tried in order when url fails; {url, tokenFile} for one with its own token

group: ${v.group}    # which groups/<group>.yaml of the channel this node follows

trust:
  # The root of trust: armored OpenPGP public keys or OpenSSH .pub files, always trusted. The channel's own
  # channel.yaml can add and rotate signers, but only through commits these keys (or keys
  # they already trust) have signed.
  keys:
    - ${v.trustKey}

stateDir: ${v.stateDir}
overlay: ${v.overlay}   # local pins, holds and windows (duck pin / duck hold edit it)

# apply:
#   minFreeBytes: 268435456    # the free-space reserve: a change whose backup would leave less free is refused before anything stops (no-space)
#   keepBackups: 3             # backups kept per app (the rollback's own is kept too)
#   keepReleases: 2            # release directories, and their images, kept per app
#   maxLockDefer: 1h           # how long an app's lock/updates.lock may defer a change

# limits:
#   maxFileBytes: 16777216     # a channel file larger than this is refused (too-large)
#   maxFetchBytes: 536870912   # a channel download larger than this is refused (too-large)
#   maxReleaseFiles: 1000      # a release listing or holding more files than this is refused (too-large)
`;
}
