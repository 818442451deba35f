import { defineCommand } from 'citty';
import { openApp, recordOperatorAct } from '../app-commands.js';
import { configArg } from '../common-args.js';
import { createOutput } from '../output.js';

export default defineCommand({
  meta: { name: 'stop', description: "Stop an app's containers (kept, with their data); the agent leaves it stopped until duck start" },
  args: { app: { type: 'positional', required: true, description: 'the app' }, ...configArg },
  async run({ args }) {
    const handle = await openApp(args.config, args.app, { mutate: true });
    try {
      await handle.runtime.stop(handle.layout.project, handle.target);
      await recordOperatorAct(handle, 'stopped', 'duck stop', true);
      createOutput(false).line(`stopped ${args.app} ${handle.version}; it stays stopped until duck start ${args.app}`);
    } finally {
      await handle.lock?.release();
    }
  },
});
