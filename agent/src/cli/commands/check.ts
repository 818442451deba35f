import { defineCommand } from 'citty';
import { DuckError } from '../../../../schemas/errors.js';
import { decide, readAcceptedLocally } from '../../node/decisions.js';
import { configArg, jsonArg } from '../common-args.js';
import { desiredJson, printDesired } from '../desired-output.js';
import { createOutput } from '../output.js';
import { fetchNow } from '../request-command.js';
import { acceptedJson, channelOf, printAccepted } from './verify.js';
import { COMMAND_META } from './meta.js';

export default defineCommand({
  meta: COMMAND_META.check,
  args: { ...configArg, ...jsonArg },
  async run({ args }) {
    const out = createOutput(args.json);
    // The writer fetches (duck run when it holds the node); the plan is read from what it accepted.
    const { node, fetched, byDaemon } = await fetchNow(args.config);
    const channel = channelOf(fetched.data);
    const view = await readAcceptedLocally(node);
    if (!view) throw new DuckError('not-found', 'the accepted commit is not in the local clone (duck verify)');
    const decisions = await decide(node, view);
    printAccepted(out, channel, node.clock());
    out.line(`group      ${view.content.groupName} (${view.content.groupFile})`);
    printDesired(out, decisions, node.clock());
    out.result(() => ({ ok: true, channel: acceptedJson(channel), group: view.content.groupName, ...(byDaemon ? { fetchedBy: 'duck run' } : {}), ...desiredJson(decisions) }));
  },
});
