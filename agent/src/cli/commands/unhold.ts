import { defineCommand } from 'citty';
import { configPath, loadAgentConfig } from '../../node/config.js';
import { editOverlayFile } from '../../node/overlay.js';
import type { Hold } from '../../../../schemas/index.js';
import { removeHold } from '../../core/overlay-edits.js';
import { configArg, jsonArg } from '../common-args.js';
import { createOutput } from '../output.js';
import { COMMAND_META } from './meta.js';

export default defineCommand({
  meta: COMMAND_META.unhold,
  args: { ...configArg, ...jsonArg },
  async run({ args }) {
    const out = createOutput(args.json);
    const file = (await loadAgentConfig(configPath(args.config, process.env))).overlay;
    let previous: Hold | undefined;
    await editOverlayFile(file, (doc) => {
      previous = removeHold(doc);
    });
    if (previous === undefined) out.line(`no hold in ${file}; nothing changed`);
    else out.line(`removed the hold in ${file} (was: ${previous.reason}); the agent resumes version changes on its next reconcile`);
    out.result({ ok: true, overlay: file, changed: previous !== undefined, previous: previous ?? null });
  },
});
