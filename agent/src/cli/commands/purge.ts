import { defineCommand } from 'citty';
import { openNode } from '../node-handle.js';
import { configArg, jsonArg } from '../common-args.js';
import { createOutput } from '../output.js';
import { confirmAppName } from '../prompt.js';
import { runRequest } from '../request-command.js';

export default defineCommand({
  meta: {
    name: 'purge',
    description:
      'Remove an orphaned app (no longer in the group) for good: its containers, named volumes, releases and data. Backups are kept. Asks you to type the app name (or --confirm <app>).',
  },
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
