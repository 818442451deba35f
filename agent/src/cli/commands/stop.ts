import { defineCommand } from 'citty';
import { openNode } from '../node-handle.js';
import { configArg, jsonArg } from '../common-args.js';
import { createOutput } from '../output.js';
import { runRequest } from '../request-command.js';

export default defineCommand({
  meta: { name: 'stop', description: "Stop an app's containers (kept, with their data); the agent leaves it stopped, and makes no change to it, until duck start" },
  args: { app: { type: 'positional', required: true, description: 'the app' }, ...configArg, ...jsonArg },
  async run({ args }) {
    await runRequest(await openNode(args.config), { kind: 'stop', app: args.app }, createOutput(args.json));
  },
});
