import { defineCommand } from 'citty';
import { configPath, loadAgentConfig } from '../../node/config.js';
import { editOverlayFile } from '../../node/overlay.js';
import { DuckError } from '../../../../schemas/errors.js';
import { invalidName, removePin } from '../../core/overlay-edits.js';
import { configArg, jsonArg } from '../common-args.js';
import { createOutput } from '../output.js';
import { COMMAND_META } from './meta.js';

export default defineCommand({
  meta: COMMAND_META.unpin,
  args: {
    app: { type: 'positional', description: 'the app to unpin, or agent', required: true },
    ...configArg,
    ...jsonArg,
  },
  async run({ args }) {
    const bad = invalidName('app', args.app);
    if (bad) throw new DuckError('usage', bad);
    const out = createOutput(args.json);
    const file = (await loadAgentConfig(configPath(args.config, process.env))).overlay;
    let previous: string | undefined;
    await editOverlayFile(file, (doc) => {
      previous = removePin(doc, args.app);
    });
    if (previous === undefined) out.line(`${args.app} is not pinned in ${file}; nothing changed`);
    else out.line(`unpinned ${args.app} in ${file} (was ${previous}); the agent follows the group again on its next reconcile`);
    out.result({ ok: true, overlay: file, changed: previous !== undefined, app: args.app, previous: previous ?? null });
  },
});
