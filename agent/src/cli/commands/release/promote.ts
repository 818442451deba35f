import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { defineCommand } from 'citty';
import { parseYaml } from '../../../../../schemas/index.js';
import { DuckError } from '../../../../../schemas/errors.js';
import { invalidName } from '../../../core/overlay-edits.js';
import { AGENT_PIN } from '../../../core/overlay-pins.js';
import { assertPromotionInScope, parseRollout, promoteInGroup } from '../../../release/group-promotion.js';
import { channelArg } from '../../release-args.js';
import { jsonArg } from '../../common-args.js';
import { createOutput } from '../../output.js';

export default defineCommand({
  meta: {
    name: 'promote',
    description:
      'Pin <app>@<version> in groups/<group>.yaml, keeping its comments and order; the release must exist. --rollout writes a staged rollout with absolute times.',
  },
  args: {
    group: { type: 'positional', description: 'the group (groups/<group>.yaml)', required: true },
    release: { type: 'positional', description: '<app>@<version>', required: true },
    rollout: { type: 'string', description: 'staged rollout steps, e.g. 10%@now,50%@+24h,100%@+72h (or RFC 3339 times)', valueHint: 'steps' },
    urgent: { type: 'boolean', description: 'a security release: may start outside the windows (never through a hold)', default: false },
    scope: {
      type: 'string',
      description: "promote: write only what a promotion-only key (channel.yaml scope: promote) may sign: not below channel.yaml's promotion floor, urgent left as it is",
      valueHint: 'all|promote',
      default: 'all',
    },
    ...channelArg,
    ...jsonArg,
  },
  async run({ args }) {
    const out = createOutput(args.json);
    const at = args.release.lastIndexOf('@');
    const [app, version] = at > 0 ? [args.release.slice(0, at), args.release.slice(at + 1)] : ['', ''];
    if (!app || !version) throw new DuckError('usage', `"${args.release}": expected <app>@<version>, e.g. hello@1.1.0`);
    const bad = invalidName('app', args.group) ?? invalidName('app', app) ?? invalidName('version', version);
    if (bad) throw new DuckError('usage', bad.replace(/^app "(.*?)"/, (m, name: string) => (name === args.group ? `group "${name}"` : m)));
    if (app === AGENT_PIN) throw new DuckError('usage', `${args.release}: the agent is not an app: duck release agent set ${args.group} ${version}`);
    const channel = resolve(args.channel);
    const groupFile = `groups/${args.group}.yaml`;
    const path = join(channel, 'groups', `${args.group}.yaml`);
    if (!existsSync(path)) throw new DuckError('usage', `${groupFile}: no such group file in ${channel}`, { file: groupFile });
    // The version must exist: a group pinning a missing release is refused by every node.
    if (!existsSync(join(channel, 'releases', app, version, 'release.yaml'))) {
      throw new DuckError('usage', `${app} ${version} does not exist: no releases/${app}/${version}/release.yaml (duck release add ${app} ${version} --from <build-dir>)`, {
        file: `releases/${app}/${version}/release.yaml`,
      });
    }
    if (args.scope !== 'all' && args.scope !== 'promote') throw new DuckError('usage', `--scope ${args.scope}: expected all or promote`);
    const rollout = args.rollout !== undefined ? parseRollout(args.rollout, new Date()) : undefined;
    const promotion = { app, version, rollout, urgent: args.urgent, keepUrgent: args.scope === 'promote' };
    if (args.scope === 'promote') {
      const policy = parseYaml('channel', await readFile(join(channel, 'channel.yaml'), 'utf8'), 'channel.yaml');
      assertPromotionInScope(promotion, policy.promotion?.floor ?? {}, groupFile);
    }
    const result = promoteInGroup(await readFile(path, 'utf8'), promotion);
    // Never write a group file agents would refuse.
    const written = parseYaml('group', result.text, groupFile);
    const temp = `${path}.${process.pid}.tmp`;
    await writeFile(temp, result.text);
    await rename(temp, path);
    out.line(`${groupFile}: ${app} ${result.previous ? `${result.previous} -> ` : ''}${version}${args.urgent ? ' (urgent)' : ''}`);
    for (const step of rollout ?? []) out.line(`  rollout ${String(step.percent).padStart(3)}% from ${step.at}`);
    if (promotion.keepUrgent && written.urgent === true) out.warn(`${groupFile}: urgent stays true, as a promotion-only key may not clear it: this promotion may start outside the windows`);
    if (result.urgentCleared) out.warn(`${groupFile}: urgent was true and is now false: this promotion waits for the windows (pass --urgent to keep it)`);
    out.result({ ok: true, group: args.group, file: groupFile, app, version, previous: result.previous ?? null, rollout: rollout ?? null, urgent: args.urgent });
  },
});
