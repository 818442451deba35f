import { defineCommand } from 'citty';
import { openNode } from '../node-handle.js';
import { configArg, jsonArg } from '../common-args.js';
import { createOutput } from '../output.js';
import { COMMAND_META } from './meta.js';

export default defineCommand({
  meta: COMMAND_META.history,
  args: {
    app: { type: 'positional', required: false, description: 'only this app' },
    limit: { type: 'string', description: 'at most this many entries', default: '50' },
    ...configArg,
    ...jsonArg,
  },
  async run({ args }) {
    const out = createOutput(args.json);
    const node = await openNode(args.config);
    const entries = node.state
      .read()
      .history.filter((h) => !args.app || h.app === args.app)
      .slice(-Number(args.limit));
    for (const h of entries) out.line(`${h.at}  ${h.app.padEnd(12)} ${h.outcome.padEnd(15)} ${h.from ?? '-'} -> ${h.to ?? '-'}  ${h.reason}`);
    if (entries.length === 0) out.line('no history yet');
    out.result({ history: entries });
  },
});
