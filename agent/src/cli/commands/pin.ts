import { defineCommand } from 'citty';
import { requireInAcceptedCommit } from '../../node/readings.js';
import { openNode } from '../node-handle.js';
import { editOverlayFile } from '../../node/overlay.js';
import { DuckError } from '../../../../schemas/errors.js';
import { invalidName, setPin } from '../../core/overlay-edits.js';
import { AGENT_PIN } from '../../core/overlay-pins.js';
import { configArg, jsonArg } from '../common-args.js';
import { createOutput } from '../output.js';
import { COMMAND_META } from './meta.js';

export default defineCommand({
  meta: COMMAND_META.pin,
  args: {
    app: { type: 'positional', description: 'the app to pin, or agent for the Duck agent itself', required: true },
    version: { type: 'positional', description: 'the version to run: releases/<app>/<version>/ (agents/<version>/ for agent) of the last accepted commit', required: true },
    force: {
      type: 'boolean',
      description: 'pin although nothing was accepted yet (no `duck verify` so far), without checking the release exists',
      default: false,
    },
    ...configArg,
    ...jsonArg,
  },
  async run({ args }) {
    const { app, version } = args;
    const bad = invalidName('app', app) ?? invalidName('version', version);
    if (bad) throw new DuckError('usage', bad);
    const out = createOutput(args.json);
    const node = await openNode(args.config);
    const file = node.config.overlay;
    const checked = await requireInAcceptedCommit(node, { app, version }, { act: 'pin', force: args.force });
    let previous: string | undefined;
    await editOverlayFile(file, (doc) => {
      previous = setPin(doc, app, version);
    });
    const changed = previous !== version;
    if (!changed) out.line(`${app} is already pinned to ${version} in ${file}; nothing changed`);
    else if (app === AGENT_PIN) out.line(`pinned the agent to ${version} in ${file}${previous ? ` (was ${previous})` : ''}; it updates itself on its next cycle (duck self-update --check shows the decision)`);
    else out.line(`pinned ${app} to ${version} in ${file}${previous ? ` (was ${previous})` : ''}; the agent applies it on its next reconcile`);
    if (!checked) out.warn(`${app} ${version} was not checked against the channel (--force)`);
    out.result({ ok: true, overlay: file, changed, app, version, previous: previous ?? null, checked });
  },
});
