import { spawn } from 'node:child_process';
import { defineCommand } from 'citty';
import { appHandle } from '../../node/readings.js';
import { openNode } from '../node-handle.js';
import { configArg } from '../common-args.js';
import { COMMAND_META } from './meta.js';

export default defineCommand({
  meta: COMMAND_META.logs,
  args: {
    app: { type: 'positional', required: true, description: 'the app' },
    tail: { type: 'string', description: 'lines per container', default: '100' },
    ...configArg,
  },
  async run({ args }) {
    const handle = await appHandle(await openNode(args.config), args.app);
    for (const s of await handle.runtime.ps(handle.layout.project)) {
      process.stdout.write(`==> ${s.service} (${s.container})\n`);
      await new Promise<void>((resolve, reject) => {
        const child = spawn('docker', ['logs', '--tail', args.tail, s.containerId], { stdio: ['ignore', 'inherit', 'inherit'] });
        child.on('error', reject);
        child.on('close', () => resolve());
      });
    }
  },
});
