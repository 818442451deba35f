import { defineCommand } from 'citty';
import { openApp, recordOperatorAct } from '../app-commands.js';
import { configArg } from '../common-args.js';
import { createOutput } from '../output.js';

export default defineCommand({
  meta: { name: 'restart', description: "Stop and start an app's containers with its current release" },
  args: { app: { type: 'positional', required: true, description: 'the app' }, ...configArg },
  async run({ args }) {
    const handle = await openApp(args.config, args.app, { mutate: true });
    try {
      await handle.runtime.stop(handle.layout.project, handle.target);
      await handle.runtime.up(handle.layout.project, handle.target);
      await recordOperatorAct(handle, 'started', 'duck restart', false);
      createOutput(false).line(`restarted ${args.app} ${handle.version}`);
    } finally {
      await handle.lock?.release();
    }
  },
});
