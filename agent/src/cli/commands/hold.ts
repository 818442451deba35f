import { userInfo } from 'node:os';
import { defineCommand } from 'citty';
import { configPath, loadAgentConfig } from '../../node/config.js';
import { editOverlayFile } from '../../node/overlay.js';
import type { Hold } from '../../../../schemas/index.js';
import { DuckError } from '../../../../schemas/errors.js';
import { setHold } from '../../core/overlay-edits.js';
import { holdUntilProblem } from '../../core/overlay-times.js';
import { configArg, jsonArg } from '../common-args.js';
import { createOutput } from '../output.js';
import { COMMAND_META } from './meta.js';

export default defineCommand({
  meta: COMMAND_META.hold,
  args: {
    reason: { type: 'string', description: 'why the node is held, shown in plans and reports (default: "held by <user> on <date>")', valueHint: 'text' },
    until: {
      type: 'string',
      description: 'when the hold ends by itself: a date (through the end of that day, node-local time) or a date-time with an offset',
      valueHint: '2026-12-31',
    },
    ...configArg,
    ...jsonArg,
  },
  async run({ args }) {
    const now = new Date();
    const reason = args.reason ?? `held by ${operatorName()} on ${localDate(now)}`;
    if (reason.trim() === '') throw new DuckError('usage', '--reason must not be empty');
    const until = args.until;
    if (until !== undefined) checkUntil(until, now);
    const out = createOutput(args.json);
    const file = (await loadAgentConfig(configPath(args.config, process.env))).overlay;
    let previous: Hold | undefined;
    await editOverlayFile(file, (doc) => {
      previous = setHold(doc, reason, until);
    });
    const hold: Hold = until === undefined ? { reason } : { reason, until };
    const replaced = previous ? ` (replacing: ${previous.reason}${previous.until ? ` until ${previous.until}` : ''})` : '';
    out.line(`held this node in ${file}: ${reason}${until ? ` until ${until}` : ''}${replaced}`);
    out.line(`the agent makes no version changes ${until ? 'until then' : 'until `duck unhold`'}, from its next reconcile`);
    out.result({ ok: true, overlay: file, changed: JSON.stringify(previous) !== JSON.stringify(hold), hold, previous: previous ?? null });
  },
});

function checkUntil(until: string, now: Date): void {
  // node/decisions' nodeZone would load the resolve stage for one line.
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const problem = holdUntilProblem('--until', until, now, zone);
  if (problem) throw new DuckError('usage', problem);
}

function operatorName(): string {
  // userInfo() throws for a uid without a passwd entry (common in containers).
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.LOGNAME ?? `uid ${process.getuid?.() ?? 'unknown'}`;
  }
}

function localDate(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
