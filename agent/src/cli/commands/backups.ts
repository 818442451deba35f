import { defineCommand } from 'citty';
import { openNode } from '../node-handle.js';
import { listBackups } from '../../node/readings.js';
import { formatBytes } from '../../core/bytes.js';
import { configArg, jsonArg } from '../common-args.js';
import { createOutput } from '../output.js';

export default defineCommand({
  meta: { name: 'backups', description: 'List the backups on this node, newest first (alias list-backups); unreadable ones are listed as broken' },
  args: { app: { type: 'positional', required: false, description: 'only this app' }, ...configArg, ...jsonArg },
  async run({ args }) {
    const out = createOutput(args.json);
    const node = await openNode(args.config);
    const dir = node.config.apply.backupsDir;
    const { backups, broken } = await listBackups(node, args.app);
    if (backups.length === 0 && broken.length === 0) out.line(`no backups${args.app ? ` of ${args.app}` : ''} in ${dir}`);
    for (const b of backups) out.line(`${b.id}  ${b.app} ${b.version}  ${b.createdAt}  ${formatBytes(b.bytes).replace(/ \(.*\)$/, '')}  ${b.reason}`);
    for (const b of broken) out.line(`${b.id}  BROKEN: ${b.problem}`);
    out.result({
      ok: true,
      dir,
      backups: backups.map((b) => ({ id: b.id, app: b.app, version: b.version, createdAt: b.createdAt, bytes: b.bytes, reason: b.reason, paths: b.paths, volumes: b.volumes })),
      broken,
    });
  },
});
