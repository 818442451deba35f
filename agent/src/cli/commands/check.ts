import { defineCommand } from 'citty';
import { configPath } from '../../agent-config.js';
import { openAgent, verifyChannel } from '../../agent.js';
import { configArg, jsonArg } from '../common-args.js';
import { createOutput } from '../output.js';
import { acceptedJson, printAccepted } from './verify.js';

export default defineCommand({
  meta: {
    name: 'check',
    description: 'Verify the channel, then show what this node would run: each app of its group, current and desired version. Executes nothing.',
  },
  args: { ...configArg, ...jsonArg },
  async run({ args }) {
    const out = createOutput(args.json);
    const agent = await openAgent(configPath(args.config));
    const accepted = await verifyChannel(agent);
    const { group, releases } = accepted.content;
    const apps = Object.keys(group.apps)
      .sort()
      .map((app) => {
        const release = releases[app]!;
        return { app, current: null as string | null, desired: release.version, images: release.release.images?.length ?? 0, files: release.files.length };
      });
    printAccepted(out, accepted, agent.clock());
    out.line();
    out.line(`group ${accepted.content.groupName} (${accepted.content.groupFile})`);
    out.line(`  ${'APP'.padEnd(20)} ${'CURRENT'.padEnd(12)} DESIRED`);
    for (const a of apps) out.line(`  ${a.app.padEnd(20)} ${(a.current ?? '-').padEnd(12)} ${a.desired}`);
    out.result({ ok: true, channel: acceptedJson(accepted), group: accepted.content.groupName, apps });
  },
});
