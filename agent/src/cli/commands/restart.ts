import { defineCommand } from 'citty';
import { openNode } from '../node-handle.js';
import { configArg, jsonArg } from '../common-args.js';
import { createOutput } from '../output.js';
import { runRequest } from '../request-command.js';

export default defineCommand({
  meta: { name: 'restart', description: "Stop and start an app's containers with its current release" },
  args: { app: { type: 'positional', required: true, description: 'the app' }, ...configArg, ...jsonArg },
  async run({ args }) {
    await runRequest(await openNode(args.config), { kind: 'restart', app: args.app }, createOutput(args.json));
  },
});
