import { defineCommand } from 'citty';
import { DuckError } from '../../../../schemas/errors.js';
import { decide, readAcceptedLocally } from '../../node/decisions.js';
import { configArg, jsonArg } from '../common-args.js';
import { createOutput } from '../output.js';
import { ask } from '../prompt.js';
import { fetchNow, runRequest } from '../request-command.js';
import { COMMAND_META } from './meta.js';

export default defineCommand({
  meta: COMMAND_META.upgrade,
  args: {
    app: { type: 'positional', required: false, description: 'only this app (default: every app with a pending change)' },
    yes: { type: 'boolean', description: 'do not ask', default: false },
    force: { type: 'boolean', description: 'go ahead although the app holds its update lock', default: false },
    ...configArg,
    ...jsonArg,
  },
  async run({ args }) {
    const out = createOutput(args.json);
    // The channel as of now, fetched by the writer; what it accepted is what the operator is shown.
    const { node, fetched } = await fetchNow(args.config);
    for (const line of fetched.lines) process.stderr.write(`${line}\n`);
    const view = await readAcceptedLocally(node);
    if (!view) throw new DuckError('not-found', 'no channel commit has been accepted yet (duck verify)');
    const only = args.app ? [args.app] : null;
    const { desired } = await decide(node, view, { upgradeNow: only ? new Set(only) : 'all' });
    if (args.app && !desired.apps.some((a) => a.app === args.app)) throw new DuckError('usage', `no app "${args.app}" in this node's group or overlay`);
    const wanted = desired.apps.filter((a) => !only || only.includes(a.app));
    for (const a of wanted.filter((x) => x.decision === 'wait')) out.line(`${a.app}: not moving: ${a.reason}`);
    const moving = wanted.filter((a) => a.decision === 'apply');
    if (moving.length === 0) {
      out.line('nothing to upgrade');
      out.result({ ok: true, changes: [] });
      return;
    }
    for (const a of moving) {
      out.line(`${a.app}: ${a.current ?? 'not installed'} -> ${a.desired}`);
      if (a.release?.notes) out.line(a.release.notes.trim().replace(/^/gm, '    '));
    }
    if (!args.yes && (await ask('Apply now? [y/N] ', '--yes')).toLowerCase() !== 'y') {
      out.line('nothing changed');
      out.result({ ok: true, changes: [], cancelled: true });
      return;
    }
    const targets = Object.fromEntries(moving.map((a) => [a.app, a.desired!]));
    await runRequest(node, { kind: 'upgrade', apps: moving.map((a) => a.app), targets, force: args.force }, out);
  },
});
