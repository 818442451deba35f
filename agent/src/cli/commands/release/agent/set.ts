import { resolve } from 'node:path';
import { defineCommand } from 'citty';
import { setGroupAgent } from '../../../../release/set-group-agent.js';
import { channelArg } from '../../../release-args.js';
import { jsonArg } from '../../../common-args.js';
import { createOutput } from '../../../output.js';

export default defineCommand({
  meta: {
    name: 'set',
    description:
      "Ask groups/<group>.yaml's nodes to run agent <version> (agent: { version }), keeping its comments; agents/<version>/agent.yaml must exist. Nodes update inside their windows, honouring hold, pin and approval.",
  },
  args: {
    group: { type: 'positional', description: 'the group (groups/<group>.yaml)', required: true },
    version: { type: 'positional', description: 'the agent version', required: true },
    ...channelArg,
    ...jsonArg,
  },
  async run({ args }) {
    const out = createOutput(args.json);
    const result = await setGroupAgent(resolve(args.channel), args.group, args.version);
    out.line(`${result.file}: agent ${result.previous ? `${result.previous} -> ` : ''}${args.version}`);
    out.result({ ok: true, group: args.group, file: result.file, version: args.version, previous: result.previous ?? null });
  },
});
