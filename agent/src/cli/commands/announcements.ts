import { defineCommand } from 'citty';
import type { Announcement } from '../../../../schemas/index.js';
import { DuckError } from '../../../../schemas/errors.js';
import { readAcceptedLocally } from '../../node/decisions.js';
import { announcementsOnNode } from '../../node/announcements.js';
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
    const notices = await announcementsOnNode(node, await readAcceptedLocally(node));
    const acknowledged = node.state.read().acknowledged;
    if (notices.unreadable) out.line(`notices unreadable: ${notices.unreadable}`);
    else if (notices.inForce.length === 0) out.line('no announcements in force on this node');
    for (const a of notices.inForce) {
      out.line(noticeLine(a, acknowledged[a.id]));
      for (const line of a.body.trimEnd().split('\n')) if (line) out.line(`    ${line}`);
    }
    out.result({
      ok: true,
      unreadable: notices.unreadable,
      announcements: notices.inForce.map((a) => ({ ...a, acknowledgedAt: acknowledged[a.id] ?? null })),
    });
  },
});

/** One notice with its mark: unread until acknowledged. */
function noticeLine(a: Announcement, acknowledgedAt: string | undefined): string {
  const mark = acknowledgedAt ? `acknowledged ${acknowledgedAt}` : 'unread';
  return `${a.id}  [${a.severity}] ${a.title}  (until ${a.expires}; ${mark})`;
}
