import { defineCommand } from 'citty';
import { editOverlayFile } from '../../node/overlay.js';
import { requireInAcceptedCommit } from '../../node/readings.js';
import { formatDuration } from '../../core/duration.js';
import { DuckError } from '../../../../schemas/errors.js';
import { invalidName, parseInstant, removeSchedule, setSchedule } from '../../core/overlay-edits.js';
import { scheduleAtProblem } from '../../core/overlay-times.js';
import { configArg, jsonArg } from '../common-args.js';
import { openNode } from '../node-handle.js';
import { createOutput } from '../output.js';
import { COMMAND_META } from './meta.js';

export default defineCommand({
  meta: COMMAND_META.schedule,
  args: {
    app: { type: 'positional', description: 'the app to upgrade', required: true },
    at: {
      type: 'string',
      description: 'when to upgrade: an RFC 3339 date-time with an offset, e.g. 2026-11-25T02:00:00+08:00 or 2026-11-24T18:00:00Z',
      valueHint: 'time',
    },
    cancel: { type: 'boolean', description: 'cancel the scheduled upgrade of the app', default: false },
    force: {
      type: 'boolean',
      description: 'schedule although nothing was accepted yet (no `duck verify` so far), without checking the app is in the channel',
      default: false,
    },
    ...configArg,
    ...jsonArg,
  },
  async run({ args }) {
    const { app, at } = args;
    const bad = invalidName('app', app);
    if (bad) throw new DuckError('usage', bad);
    if (args.cancel && at !== undefined) throw new DuckError('usage', 'give --at <time> or --cancel, not both');
    if (!args.cancel && at === undefined) throw new DuckError('usage', `give the time to upgrade ${app}: --at <time> (or --cancel)`);
    const now = new Date();
    const when = at === undefined ? null : checkAt(at, now);
    const out = createOutput(args.json);
    const node = await openNode(args.config);
    const file = node.config.overlay;
    // Cancelling needs no check: the app may have left the channel since it was scheduled.
    const checked = at === undefined || (await requireInAcceptedCommit(node, { app }, { act: 'schedule', force: args.force }));
    let previous: string | undefined;
    await editOverlayFile(file, (doc) => {
      previous = at === undefined ? removeSchedule(doc, app) : setSchedule(doc, app, at);
    });
    if (at === undefined || when === null) {
      if (previous === undefined) out.line(`no upgrade of ${app} is scheduled in ${file}; nothing changed`);
      else out.line(`cancelled the upgrade of ${app} scheduled at ${previous} in ${file}`);
      out.result({ ok: true, overlay: file, changed: previous !== undefined, app, at: null, previous: previous ?? null });
      return;
    }
    const replaced = previous !== undefined && previous !== at ? ` (was ${previous})` : '';
    out.line(`scheduled an upgrade of ${app} at ${at} (in ${formatDuration(when.getTime() - now.getTime())}) in ${file}${replaced}`);
    out.line('the agent upgrades it then, whatever the windows say; a hold still wins');
    if (!checked) out.warn(`${app} was not checked against the channel (--force)`);
    out.result({ ok: true, overlay: file, changed: previous !== at, app, at, previous: previous ?? null, checked });
  },
});

/** The instant of --at; usage errors (exit 2) for a malformed, offset-less or past time. */
function checkAt(at: string, now: Date): Date {
  const problem = scheduleAtProblem('--at', at, now);
  if (problem) throw new DuckError('usage', problem);
  return parseInstant(at) as Date;
}
