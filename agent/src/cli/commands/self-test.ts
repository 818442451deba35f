import { defineCommand } from 'citty';
import { selfTest } from '../../node/self-test.js';
import { configArg, jsonArg } from '../common-args.js';
import { openNode } from '../node-handle.js';
import { createOutput } from '../output.js';
import { COMMAND_META } from './meta.js';

// Exit 0: this build starts, reads the config and state, and verifies the accepted commit from the
// clone; otherwise the reason on stderr and exit 1 (3 when the commit itself is refused).
export default defineCommand({
  meta: COMMAND_META['self-test'],
  args: { ...configArg, ...jsonArg },
  async run({ args }) {
    const out = createOutput(args.json);
    const result = await selfTest(await openNode(args.config));
    for (const check of result.checks) out.line(`ok  ${check}`);
    out.line(`self-test of ${result.version} passed`);
    out.result({ ok: true, ...result });
  },
});
