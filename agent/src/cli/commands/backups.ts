import { defineCommand } from 'citty';
import { configPath } from '../../agent-config.js';
import { openAgent } from '../../agent.js';
import { createBackupStore } from '../../apply/backup-store.js';
import { formatBytes } from '../../apply/disk-space.js';
import { configArg, jsonArg } from '../common-args.js';
import { createOutput } from '../output.js';

export default defineCommand({
  meta: { name: 'backups', description: 'List the backups on this node, newest first (alias list-backups); unreadable ones are listed as broken' },
  args: { app: { type: 'positional', required: false, description: 'only this app' }, ...configArg, ...jsonArg },
  async run({ args }) {
    const out = createOutput(args.json);
    const agent = await openAgent(configPath(args.config));
    const store = createBackupStore(agent.config.apply.backupsDir);
    const { backups, broken } = await store.list(args.app);
    if (backups.length === 0 && broken.length === 0) out.line(`no backups${args.app ? ` of ${args.app}` : ''} in ${store.dir}`);
    for (const b of backups) out.line(`${b.id}  ${b.app} ${b.version}  ${b.createdAt}  ${formatBytes(b.bytes).replace(/ \(.*\)$/, '')}  ${b.reason}`);
    for (const b of broken) out.line(`${b.id}  BROKEN: ${b.problem}`);
    out.result({
      ok: true,
      dir: store.dir,
      backups: backups.map((b) => ({ id: b.id, app: b.app, version: b.version, createdAt: b.createdAt, bytes: b.bytes, reason: b.reason, paths: b.paths, volumes: b.volumes })),
      broken,
    });
  },
});
