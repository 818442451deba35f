import { defineCommand } from 'citty';
import { openNode } from '../node-handle.js';
import { configArg, jsonArg } from '../common-args.js';
import { createOutput } from '../output.js';
import { runRequest } from '../request-command.js';

export default defineCommand({
  meta: {
    name: 'backup',
    description:
      "Back up an app now: its data paths and named volumes with its release directory, sha256 per file. The app stops for the copy (a consistent backup) and starts again.",
  },
  args: { app: { type: 'positional', required: true, description: 'the app' }, ...configArg, ...jsonArg },
  async run({ args }) {
    await runRequest(await openNode(args.config), { kind: 'backup', app: args.app }, createOutput(args.json));
  },
});
