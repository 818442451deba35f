import { defineCommand } from 'citty';
import { openApp, recordOperatorAct } from '../app-commands.js';
import { configArg } from '../common-args.js';
import { createOutput } from '../output.js';

export default defineCommand({
  meta: { name: 'start', description: 'Start an app the operator stopped (compose up -d with its current release)' },
  args: { app: { type: 'positional', required: true, description: 'the app' }, ...configArg },
  async run({ args }) {
    const handle = await openApp(args.config, args.app, { mutate: true });
    try {
      await handle.runtime.up(handle.layout.project, handle.target);
      await recordOperatorAct(handle, 'started', 'duck start', false);
      createOutput(false).line(`started ${args.app} ${handle.version}`);
    } finally {
      await handle.lock?.release();
    }
  },
});
