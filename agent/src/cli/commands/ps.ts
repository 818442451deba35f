import { defineCommand } from 'citty';
import { appHandle } from '../../node/readings.js';
import { openNode } from '../node-handle.js';
import { configArg, jsonArg } from '../common-args.js';
import { createOutput } from '../output.js';
import { COMMAND_META } from './meta.js';

export default defineCommand({
  meta: COMMAND_META.ps,
  args: { app: { type: 'positional', required: true, description: 'the app' }, ...configArg, ...jsonArg },
  async run({ args }) {
    const out = createOutput(args.json);
    const handle = await appHandle(await openNode(args.config), args.app);
    const services = await handle.runtime.ps(handle.layout.project);
    out.line(`${args.app} ${handle.version} (project ${handle.layout.project})`);
    for (const s of services) out.line(`  ${s.service.padEnd(16)} ${s.state.padEnd(10)} ${s.health.padEnd(10)} ${s.image}`);
    if (services.length === 0) out.line('  no containers');
    out.result({ app: args.app, version: handle.version, project: handle.layout.project, services });
  },
});
