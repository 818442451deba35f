import { defineCommand } from 'citty';
import { openNode } from '../node-handle.js';
import { configArg, jsonArg } from '../common-args.js';
import { createOutput } from '../output.js';
import { runRequest } from '../request-command.js';

export default defineCommand({
  meta: {
    name: 'retry',
    description: 'Try a version that failed on this node again: lifts its quarantine and reconciles the app now (inside its window and rollout, as any change)',
  },
  args: { app: { type: 'positional', required: true, description: 'the app' }, ...configArg, ...jsonArg },
  async run({ args }) {
    await runRequest(await openNode(args.config), { kind: 'retry', app: args.app }, createOutput(args.json));
  },
});
