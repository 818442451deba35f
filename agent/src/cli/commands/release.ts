import type { CommandDef } from 'citty';
import { defineCommand } from 'citty';
import { COMMAND_META } from './meta.js';

const load = (name: string) => () => import(`./release/${name}.js`).then((m: { default: CommandDef }) => m.default);

// The publisher's side of a channel (DESIGN §2): each subcommand loads lazily, like duck's own.
export default defineCommand({
  meta: COMMAND_META.release,
  subCommands: {
    keygen: load('keygen'),
    init: load('init'),
    add: load('add'),
    promote: load('promote'),
    lint: load('lint'),
    commit: load('commit'),
    sign: load('sign'),
    approve: load('approve'),
    verify: load('verify'),
    gate: load('gate'),
    agent: load('agent'),
    announce: load('announce'),
  },
});
