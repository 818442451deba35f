import { defineCommand } from 'citty';
import { openNode } from '../node-handle.js';
import { listBackups, partialBackups } from '../../node/readings.js';
import { formatBytes } from '../../core/bytes.js';
import { configArg, jsonArg } from '../common-args.js';
import { createOutput } from '../output.js';
import { COMMAND_META } from './meta.js';

export default defineCommand({
  meta: COMMAND_META.backups,
  args: {
    app: { type: 'positional', required: false, description: 'only this app' },
    all: { type: 'boolean', default: false, description: 'also list each unfinished backup (<id>.partial) a killed agent left; the next agent start removes them' },
    ...configArg,
    ...jsonArg,
  },
  async run({ args }) {
    const out = createOutput(args.json);
    const node = await openNode(args.config);
    const dir = node.config.apply.backupsDir;
    const { backups, broken } = await listBackups(node, args.app);
    const partial = await partialBackups(node);
    const partialBytes = partial.reduce((sum, p) => sum + p.bytes, 0);
    if (backups.length === 0 && broken.length === 0) out.line(`no backups${args.app ? ` of ${args.app}` : ''} in ${dir}`);
    for (const b of backups) out.line(`${b.id}  ${b.app} ${b.version}  ${b.createdAt}  ${size(b.bytes)}  ${b.reason}`);
    for (const b of broken) out.line(`${b.id}  BROKEN: ${b.problem}`);
    if (partial.length > 0) {
      // A kill during a backup leaves its copy behind: it takes room until the next writer start removes it.
      out.line(`${partial.length} partial leftover${partial.length === 1 ? '' : 's'}, ${size(partialBytes)}, removed when the agent next starts${args.all ? ':' : ' (duck backups --all lists them)'}`);
      if (args.all) for (const p of partial) out.line(`  ${p.name}  ${size(p.bytes)}`);
    }
    out.result({
      ok: true,
      dir,
      backups: backups.map((b) => ({ id: b.id, app: b.app, version: b.version, createdAt: b.createdAt, bytes: b.bytes, reason: b.reason, paths: b.paths, volumes: b.volumes })),
      broken,
      partial: { count: partial.length, bytes: partialBytes, removed: 'when the agent next starts', ...(args.all ? { leftovers: partial } : {}) },
    });
  },
});

function size(bytes: number): string {
  return formatBytes(bytes).replace(/ \(.*\)$/, '');
}
