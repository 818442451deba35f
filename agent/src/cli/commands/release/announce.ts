import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { defineCommand } from 'citty';
import type { Announcement, AnnouncementSeverity, AnnouncementTarget } from '../../../../../schemas/index.js';
import { DuckError } from '../../../../../schemas/errors.js';
import { addAnnouncement } from '../../../release/add-announcement.js';
import { invalidName } from '../../../core/overlay-edits.js';
import { channelArg } from '../../release-args.js';
import { jsonArg } from '../../common-args.js';
import { createOutput } from '../../output.js';

const SEVERITIES: readonly AnnouncementSeverity[] = ['info', 'warning', 'critical'];

export default defineCommand({
  meta: {
    name: 'announce',
    description:
      'Append a notice to announcements.yaml, keeping its comments; nodes it targets show it in duck status until it expires. Targets must exist in the channel; an id is never reused.',
  },
  args: {
    id: { type: 'string', description: 'a unique id (lowercase letters, digits, - and _)', required: true },
    title: { type: 'string', description: 'one line, shown by duck status', required: true },
    'body-file': { type: 'string', description: 'a Markdown file with the text for people', valueHint: 'file', required: true },
    severity: { type: 'string', description: 'info, warning or critical', required: true },
    expires: { type: 'string', description: 'when it stops showing, RFC 3339 (e.g. 2026-12-31T00:00:00Z)', required: true },
    group: { type: 'string', description: 'only nodes of this group (repeat for more)', valueHint: 'group' },
    app: { type: 'string', description: 'only nodes running <app> in <range>, e.g. shop=">=1.2.0 <2.0.0" (repeat: any one matches)', valueHint: 'app=range' },
    agent: { type: 'string', description: 'only agents in this version range, e.g. "<0.3.0"', valueHint: 'range' },
    ...channelArg,
    ...jsonArg,
  },
  async run({ args, rawArgs }) {
    const out = createOutput(args.json);
    const announcement = await announcementOf({ ...args, group: repeated(rawArgs, 'group'), app: repeated(rawArgs, 'app') });
    const { file } = await addAnnouncement(resolve(args.channel), announcement, new Date());
    out.line(`${file}: ${announcement.id} [${announcement.severity}] until ${announcement.expires}`);
    out.result({ ok: true, file, announcement });
  },
});

interface AnnounceArgs {
  id: string;
  title: string;
  'body-file': string;
  severity: string;
  expires: string;
  group: string[];
  app: string[];
  agent?: string;
}

/** The announcement the options describe. */
async function announcementOf(args: AnnounceArgs): Promise<Announcement> {
  const badId = invalidName('app', args.id);
  if (badId) throw new DuckError('usage', `--id: ${badId.replace(/^app /, '')}`);
  if (!SEVERITIES.includes(args.severity as AnnouncementSeverity)) throw new DuckError('usage', `--severity ${args.severity}: expected ${SEVERITIES.join(', ')}`);
  const target: AnnouncementTarget = {};
  if (args.group.length) target.groups = args.group;
  if (args.app.length) {
    target.apps = {};
    for (const spec of args.app) {
      const eq = spec.indexOf('=');
      if (eq <= 0) throw new DuckError('usage', `--app ${spec}: expected <app>=<range>, e.g. shop=">=1.2.0 <2.0.0"`);
      target.apps[spec.slice(0, eq)] = spec.slice(eq + 1).trim();
    }
  }
  if (args.agent !== undefined) target.agent = args.agent.trim();
  const body = await readFile(args['body-file'], 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new DuckError('usage', `--body-file ${args['body-file']}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  });
  return {
    id: args.id,
    title: args.title,
    body,
    severity: args.severity as AnnouncementSeverity,
    expires: args.expires,
    ...(Object.keys(target).length ? { target } : {}),
  };
}

/** Every value of a repeatable option (citty keeps only the last), as `--name v` or `--name=v`. */
function repeated(rawArgs: readonly string[], name: string): string[] {
  const values: string[] = [];
  rawArgs.forEach((arg, i) => {
    if (arg === `--${name}` && rawArgs[i + 1] !== undefined) values.push(rawArgs[i + 1]!);
    else if (arg.startsWith(`--${name}=`)) values.push(arg.slice(name.length + 3));
  });
  return values;
}
