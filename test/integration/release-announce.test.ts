// Issue 16 point 4, the publisher's side: `duck release announce` appends a notice to
// announcements.yaml with its comments kept and never reuses an id, lint checks the expiry, the ids
// and the targeting, and what is signed is read back by the agent's own reader.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readAnnouncements } from '../../agent/src/channel/read-announcements.js';
import { openLocalRepo } from '../../agent/src/release/local-repo.js';
import type { OpenpgpTestKey } from '../../examples/harness/keys.js';
import { makeOpenpgpKey } from '../../examples/harness/keys.js';
import { makeTempDir, removeTempDir } from '../../examples/harness/tmp.js';
import { agentAccepts, duckCli, writeKeyFile } from '../helpers/release-cli.js';

interface Ctx {
  root: string;
  key: OpenpgpTestKey;
  keyFile: string;
  body: string;
  count: number;
}

const Announce = suite<Ctx>('duck release announce', {} as Ctx);

Announce.before(async (ctx) => {
  ctx.root = await makeTempDir('duck-release-announce-');
  ctx.key = await makeOpenpgpKey('release-bot');
  ctx.keyFile = await writeKeyFile(ctx.root, ctx.key);
  ctx.body = join(ctx.root, 'notice.md');
  await writeFile(ctx.body, 'hello **2.0** changes its page.\n\nRead the notes first.\n');
  ctx.count = 0;
});
Announce.after(async (ctx) => removeTempDir(ctx.root));

/** A channel from the template: groups production and canary, app hello 1.0.0 and 1.1.0. */
async function newChannel(ctx: Ctx): Promise<string> {
  const dir = join(ctx.root, `channel-${++ctx.count}`);
  const r = await duckCli(ctx.root, ['release', 'init', dir, '--key', ctx.keyFile]);
  assert.is(r.code, 0, r.stderr);
  return dir;
}

async function lint(dir: string): Promise<{ code: number; lines: string[] }> {
  const r = await duckCli(dir, ['release', 'lint']);
  return { code: r.code, lines: r.stdout.split('\n').filter((l) => /^\S+:\d+:\d+: /.test(l)) };
}

const announce = (ctx: Ctx, id: string, ...more: string[]): string[] => [
  'release', 'announce', '--id', id, '--title', `notice ${id}`, '--body-file', ctx.body, '--severity', 'warning', '--expires', '2099-01-01T00:00:00Z', ...more,
];

Announce('announce appends with the comments kept; lint passes; signed, the agent reads both notices', async (ctx) => {
  const dir = await newChannel(ctx);
  const file = join(dir, 'announcements.yaml');
  await writeFile(file, '# Notices for the fleet (duck release announce)\n- id: first # the first one\n  title: first\n  body: ""\n  severity: info\n  expires: 2099-01-01T00:00:00Z\n');
  const r = await duckCli(dir, announce(ctx, 'hello-2', '--group', 'production', '--group', 'canary', '--app', 'hello=>=1.0.0 <2.0.0', '--agent', '<9.0.0'));
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /announcements\.yaml: hello-2 \[warning\] until 2099-01-01T00:00:00Z/);
  const text = await readFile(file, 'utf8');
  assert.ok(text.startsWith('# Notices for the fleet (duck release announce)\n- id: first # the first one\n'), text);
  assert.equal((await lint(dir)).lines, []);
  const commit = await duckCli(dir, ['release', 'commit', '-m', 'notice hello-2', '--key', ctx.keyFile]);
  assert.is(commit.code, 0, commit.stderr);

  const head = (await agentAccepts(dir, [ctx.key])).accepted.commit;
  const read = await readAnnouncements((await openLocalRepo(dir)).objects, head);
  assert.equal(read.map((a) => a.id), ['first', 'hello-2']);
  assert.equal(read[1], {
    id: 'hello-2',
    title: 'notice hello-2',
    body: 'hello **2.0** changes its page.\n\nRead the notes first.\n',
    severity: 'warning',
    expires: '2099-01-01T00:00:00Z',
    target: { groups: ['production', 'canary'], apps: { hello: '>=1.0.0 <2.0.0' }, agent: '<9.0.0' },
  });
});

Announce('announce refuses a reused id, an unknown group or app, a bad range and a past expiry, and writes nothing', async (ctx) => {
  const dir = await newChannel(ctx);
  const file = join(dir, 'announcements.yaml');
  assert.is((await duckCli(dir, announce(ctx, 'once'))).code, 0);
  const before = await readFile(file, 'utf8');
  const refusals: Array<[string[], RegExp]> = [
    [announce(ctx, 'once'), /an announcement with id once exists: ids are never reused/],
    [announce(ctx, 'g', '--group', 'prod'), /no group "prod": there is no groups\/prod\.yaml/],
    [announce(ctx, 'a', '--app', 'shop=>=1.0.0'), /no app "shop": there is no releases\/shop\//],
    [announce(ctx, 'r', '--app', 'hello=^1.2'), /--app hello=\^1\.2: "\^1\.2" is not a comparator like >=1\.2\.0/],
    [announce(ctx, 'v', '--agent', '~0.2'), /--agent ~0\.2: "~0\.2" is not a comparator/],
    [[...announce(ctx, 'p').slice(0, -2), '--expires', '2020-01-01T00:00:00Z'], /--expires 2020-01-01T00:00:00Z is already past/],
    [announce(ctx, 's').map((a) => (a === 'warning' ? 'urgent' : a)), /--severity urgent: expected info, warning, critical/],
  ];
  for (const [args, message] of refusals) {
    const r = await duckCli(dir, args);
    assert.is(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, message);
  }
  assert.is(await readFile(file, 'utf8'), before);
});

Announce('lint requires the expiry and refuses duplicate ids, unknown targets and bad ranges, each at its place', async (ctx) => {
  const dir = await newChannel(ctx);
  const file = join(dir, 'announcements.yaml');
  const notice = (id: string, extra = ''): string => `- id: ${id}\n  title: t\n  body: b\n  severity: info\n  expires: 2099-01-01T00:00:00Z\n${extra}`;
  await writeFile(file, '- id: no-expiry\n  title: t\n  body: b\n  severity: info\n');
  assert.equal((await lint(dir)).lines, ['announcements.yaml:1:3: /0: missing required key "expires"']);
  await writeFile(file, notice('twice') + notice('twice'));
  assert.equal((await lint(dir)).lines, ['announcements.yaml:6:7: /1/id: twice is used by an earlier announcement']);
  await writeFile(file, notice('targets', '  target:\n    groups: [production, prod]\n    apps: { shop: ">=1.0.0" }\n'));
  assert.equal((await lint(dir)).lines, [
    'announcements.yaml:7:26: /0/target/groups/1: no group "prod": there is no groups/prod.yaml',
    'announcements.yaml:8:19: /0/target/apps/shop: no app "shop": there is no releases/shop/',
  ]);
  await writeFile(file, notice('range', '  target: { agent: "0.2.x || 0.3" }\n'));
  const bad = await lint(dir);
  assert.is(bad.code, 3, 'lint fails');
  assert.match(bad.lines.join('\n'), /^announcements\.yaml:6:20: \/0\/target\/agent: must be a version range like ">=1\.2\.0 <2\.0\.0"/);
});

Announce.run();
