import { defineCommand } from 'citty';
import { openNode } from '../node-handle.js';
import { configArg, jsonArg } from '../common-args.js';
import { createOutput } from '../output.js';
import { confirmAppName } from '../prompt.js';
import { runRequest } from '../request-command.js';
import { COMMAND_META } from './meta.js';

export default defineCommand({
  meta: COMMAND_META.purge,
  args: {
    app: { type: 'positional', required: true, description: 'the orphaned app' },
    confirm: { type: 'string', description: 'the app name again, for scripts', valueHint: 'app' },
    ...configArg,
    ...jsonArg,
  },
  async run({ args }) {
    const node = await openNode(args.config);
    await confirmAppName(args.app, {
      given: args.confirm,
      question: `This deletes ${args.app}'s volumes and data on this node. Type the app name to confirm: `,
      nothingDone: 'nothing was removed',
    });
    await runRequest(node, { kind: 'purge', app: args.app }, createOutput(args.json));
  },
});
