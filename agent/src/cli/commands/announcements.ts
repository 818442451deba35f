import { defineCommand } from 'citty';
import type { Announcement } from '../../../../schemas/index.js';
import { DuckError } from '../../../../schemas/errors.js';
import { noticesOnNode } from '../../node/announcements.js';
import { configArg, jsonArg } from '../common-args.js';
import { openNode } from '../node-handle.js';
import { createOutput } from '../output.js';
import { runRequest } from '../request-command.js';
import { COMMAND_META } from './meta.js';

// `duck announcements` lists the notices in force here from the local state, without fetching;
// `duck announcements ack <id>` is an operator act, carried out by the writer (DESIGN §4.10).
export default defineCommand({
  meta: COMMAND_META.announcements,
  args: {
    action: { type: 'positional', required: false, description: 'ack: acknowledge the notice <id>' },
    id: { type: 'positional', required: false, description: 'the notice to acknowledge' },
    ...configArg,
    ...jsonArg,
  },
  async run({ args }) {
    const out = createOutput(args.json);
    const node = await openNode(args.config);
    if (args.action !== undefined) {
      if (args.action !== 'ack' || !args.id) throw new DuckError('usage', `duck announcements takes no argument or "ack <id>", not "${[args.action, args.id ?? ''].join(' ').trim()}"`);
      await runRequest(node, { kind: 'acknowledge', id: args.id }, out);
      return;
    }
    const { announcements, unreadable } = await noticesOnNode(node);
    if (unreadable) out.line(`notices unreadable: ${unreadable}`);
    else if (announcements.length === 0) out.line('no announcements in force on this node');
    for (const a of announcements) {
      out.line(noticeLine(a));
      for (const line of a.body.trimEnd().split('\n')) if (line) out.line(`    ${line}`);
    }
    out.result({ ok: true, unreadable, announcements });
  },
});

/** One notice with its mark: unread until acknowledged. */
function noticeLine(a: Announcement & { acknowledgedAt: string | null }): string {
  const mark = a.acknowledgedAt ? `acknowledged ${a.acknowledgedAt}` : 'unread';
  return `${a.id}  [${a.severity}] ${a.title}  (until ${a.expires}; ${mark})`;
}
