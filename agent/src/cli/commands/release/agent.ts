import type { CommandDef } from 'citty';
import { defineCommand } from 'citty';

const load = (name: string) => () => import(`./agent/${name}.js`).then((m: { default: CommandDef }) => m.default);

// The agent's own builds in the channel (DESIGN §4.7): publish one, then ask a group for it.
export default defineCommand({
  meta: {
    name: 'agent',
    description: "Publish the Duck agent's own builds: add writes agents/<version>/agent.yaml from the tarballs, set asks a group for a version",
  },
  subCommands: {
    add: load('add'),
    set: load('set'),
  },
});
