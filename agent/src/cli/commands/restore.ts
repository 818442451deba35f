import { defineCommand } from 'citty';
import { openNode } from '../node-handle.js';
import { backupRecord } from '../../node/readings.js';
import { configArg, jsonArg } from '../common-args.js';
import { createOutput } from '../output.js';
import { confirmAppName } from '../prompt.js';
import { runRequest } from '../request-command.js';
import { COMMAND_META } from './meta.js';

export default defineCommand({
  meta: COMMAND_META.restore,
  args: {
    id: { type: 'positional', required: true, description: 'the backup id (duck backups)' },
    confirm: { type: 'string', description: 'the app name, for scripts', valueHint: 'app' },
    ...configArg,
    ...jsonArg,
  },
  async run({ args }) {
    const out = createOutput(args.json);
    const node = await openNode(args.config);
    const record = await backupRecord(node, args.id);
    const current = node.state.read().apps[record.app]?.version ?? 'nothing';
    process.stderr.write(`${record.app}: ${current} with its data now -> ${record.version} with the data of ${record.createdAt} (${record.reason})\n`);
    await confirmAppName(record.app, { given: args.confirm, question: `Type the app name (${record.app}) to restore: `, nothingDone: 'nothing was restored' });
    await runRequest(node, { kind: 'restore', backupId: args.id }, out);
  },
});
