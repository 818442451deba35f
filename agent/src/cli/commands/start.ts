import { defineCommand } from 'citty';
import { openNode } from '../node-handle.js';
import { configArg, jsonArg } from '../common-args.js';
import { createOutput } from '../output.js';
import { runRequest } from '../request-command.js';

export default defineCommand({
  meta: { name: 'start', description: "Start an app the operator stopped (compose up -d with its current release); the agent manages it again" },
  args: { app: { type: 'positional', required: true, description: 'the app' }, ...configArg, ...jsonArg },
  async run({ args }) {
    await runRequest(await openNode(args.config), { kind: 'start', app: args.app }, createOutput(args.json));
  },
});
