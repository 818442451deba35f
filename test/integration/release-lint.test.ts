// `duck release lint` on a channel made by `duck release init` and then broken one rule at a time
// (DESIGN §2): each problem is one `file:line:col: field: message` line, and any problem exits 3.
import { createHash } from 'node:crypto';
import { appendFile, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { OpenpgpTestKey } from '../../examples/harness/keys.js';
import { makeOpenpgpKey } from '../../examples/harness/keys.js';
import { duckCli, writeKeyFile } from '../helpers/release-cli.js';
import { makeTempDir, removeTempDir } from '../../examples/harness/tmp.js';

interface Ctx {
  root: string;
  key: OpenpgpTestKey;
  keyFile: string;
  count: number;
}

const Lint = suite<Ctx>('duck release lint', {} as Ctx);

Lint.before(async (ctx) => {
  ctx.root = await makeTempDir('duck-release-lint-');
  ctx.key = await makeOpenpgpKey('release-bot');
  ctx.keyFile = await writeKeyFile(ctx.root, ctx.key);
  ctx.count = 0;
});
Lint.after(async (ctx) => removeTempDir(ctx.root));

/** A fresh channel from the template, committed and signed: the base every case breaks. */
async function channel(ctx: Ctx): Promise<string> {
  const dir = join(ctx.root, `channel-${++ctx.count}`);
  const r = await duckCli(ctx.root, ['release', 'init', dir, '--key', ctx.keyFile]);
  assert.is(r.code, 0, r.stderr);
  return dir;
}

async function lint(dir: string, ...args: string[]): Promise<{ code: number; lines: string[]; stderr: string }> {
  const r = await duckCli(dir, ['release', 'lint', ...args]);
  return { code: r.code, lines: r.stdout.split('\n').filter(Boolean), stderr: r.stderr };
}

async function edit(dir: string, file: string, change: (text: string) => string): Promise<void> {
  const path = join(dir, file);
  await writeFile(path, change(await readFile(path, 'utf8')));
}

/** Re-lists a file's sha256 in its release.yaml, so that only the rule under test is broken. */
async function relist(dir: string, release: string, file: string): Promise<void> {
  const digest = createHash('sha256').update(await readFile(join(dir, release, file))).digest('hex');
  await edit(dir, `${release}/release.yaml`, (t) => t.replace(new RegExp(`^(  ${file.replace('.', '\\.')}: )[0-9a-f]{64}$`, 'm'), `$1${digest}`));
}

const R100 = 'releases/hello/1.0.0';

Lint('a channel fresh from the template lints clean, with and without --base', async (ctx) => {
  const dir = await channel(ctx);
  const plain = await lint(dir);
  assert.is(plain.code, 0, plain.lines.join('\n'));
  assert.match(plain.stderr, /ok: 0 problems in 2 releases and 2 groups/);
  const based = await lint(dir, '--base', 'main');
  assert.is(based.code, 0, based.lines.join('\n'));
});

Lint('--base refuses a published release whose file changed since the base, pointing at the changed line', async (ctx) => {
  const dir = await channel(ctx);
  await edit(dir, `${R100}/compose.yaml`, (t) => t.replace('restart: unless-stopped', 'restart: always'));
  await relist(dir, R100, 'compose.yaml');
  assert.is((await lint(dir)).code, 0, 'without --base the edited release is self-consistent');
  const r = await lint(dir, '--base', 'main');
  assert.is(r.code, 3);
  assert.is(r.lines.length, 2, r.lines.join('\n'));
  assert.match(r.lines[0]!, new RegExp(`^${R100}/compose\\.yaml:6:1: changed since main \\([0-9a-f]{12}\\), but ${R100} is published`));
  assert.match(r.lines[1]!, new RegExp(`^${R100}/release\\.yaml:26:1: changed since main`));
});

Lint('--base refuses a published release that vanished', async (ctx) => {
  const dir = await channel(ctx);
  await rm(join(dir, R100), { recursive: true });
  await edit(dir, 'groups/production.yaml', (t) => t.replace('hello: 1.0.0', 'hello: 1.1.0'));
  assert.is((await lint(dir)).code, 0);
  const r = await lint(dir, '--base', 'main');
  assert.is(r.code, 3);
  assert.equal(r.lines.length, 1, r.lines.join('\n'));
  assert.match(r.lines[0]!, new RegExp(`^${R100}/release\\.yaml:1:1: the published release ${R100} was removed since main`));
});

Lint('refuses a group that pins a version that does not exist, at that line', async (ctx) => {
  const dir = await channel(ctx);
  await edit(dir, 'groups/production.yaml', (t) => t.replace('hello: 1.0.0', 'hello: 9.9.9'));
  const r = await lint(dir);
  assert.is(r.code, 3);
  assert.equal(r.lines, ['groups/production.yaml:6:10: /apps/hello: hello 9.9.9 does not exist: there is no releases/hello/9.9.9/release.yaml']);
});

Lint('refuses a listed path that escapes the release directory, at its key', async (ctx) => {
  const dir = await channel(ctx);
  await appendFile(join(dir, `${R100}/release.yaml`), `  ../../../channel.yaml: ${'a'.repeat(64)}\n`);
  const r = await lint(dir);
  assert.is(r.code, 3);
  const line = (await readFile(join(dir, `${R100}/release.yaml`), 'utf8')).split('\n').length - 1;
  assert.equal(r.lines, [`${R100}/release.yaml:${line}:3: /files: unsafe path "../../../channel.yaml"`]);
});

Lint('refuses a symbolic link in a release', async (ctx) => {
  const dir = await channel(ctx);
  await symlink('../../../channel.yaml', join(dir, R100, 'config.yaml'));
  const r = await lint(dir);
  assert.is(r.code, 3);
  assert.ok(r.lines.includes(`${R100}/config.yaml:1:1: a symbolic link: agents refuse links in a channel (commit the file itself)`), r.lines.join('\n'));
});

Lint('refuses a file the release.yaml does not list', async (ctx) => {
  const dir = await channel(ctx);
  await writeFile(join(dir, R100, 'extra.conf'), 'x\n');
  const r = await lint(dir);
  assert.is(r.code, 3);
  assert.equal(r.lines, [`${R100}/release.yaml:26:3: /files: ${R100}/extra.conf: not listed with a sha256 in ${R100}/release.yaml /files`]);
});

Lint('refuses a file whose sha256 does not match the one listed, at the listing', async (ctx) => {
  const dir = await channel(ctx);
  await appendFile(join(dir, R100, 'compose.yaml'), '# edited\n');
  const r = await lint(dir);
  assert.is(r.code, 3);
  assert.is(r.lines.length, 1, r.lines.join('\n'));
  assert.match(r.lines[0]!, new RegExp(`^${R100}/release\\.yaml:26:17: /files/compose\\.yaml: ${R100}/compose\\.yaml: sha256 [0-9a-f]{64} does not match`));
});

Lint('refuses a compose file without services, and one that is not YAML, at the line', async (ctx) => {
  const dir = await channel(ctx);
  await writeFile(join(dir, R100, 'compose.yaml'), 'web:\n  image: duck-example/hello:1.0.0\n');
  await relist(dir, R100, 'compose.yaml');
  await writeFile(join(dir, 'releases/hello/1.1.0/compose.yaml'), 'services:\n  web: [\n');
  await relist(dir, 'releases/hello/1.1.0', 'compose.yaml');
  const r = await lint(dir);
  assert.is(r.code, 3);
  assert.is(r.lines[0], `${R100}/compose.yaml:1:1: /services: a compose file needs a non-empty "services" mapping`);
  assert.match(r.lines[1]!, /^releases\/hello\/1\.1\.0\/compose\.yaml:3:1: invalid compose YAML: /);
});

Lint('refuses unknown keys with the schema error at the key', async (ctx) => {
  const dir = await channel(ctx);
  await appendFile(join(dir, 'groups/production.yaml'), 'urgnet: true\n');
  await edit(dir, `${R100}/release.yaml`, (t) => t.replace('migrations: reversible', 'migration: reversible'));
  const r = await lint(dir, '--json');
  assert.is(r.code, 3);
  const problems = (JSON.parse(r.lines.join('\n')) as { problems: Array<{ file: string; line: number; message: string }> }).problems;
  assert.equal(
    problems.map((p) => `${p.file}:${p.line}: ${p.message}`),
    ['groups/production.yaml:19: unknown key "urgnet" (did you mean "urgent"?)', `${R100}/release.yaml:24: unknown key "migration" (did you mean "migrations"?)`],
  );
});

Lint('--base refuses a change of signers without a greater channel.yaml version', async (ctx) => {
  const dir = await channel(ctx);
  const other = await makeOpenpgpKey('alice');
  await writeFile(join(dir, 'keys/alice.asc'), other.armoredPublicKey);
  await edit(dir, 'channel.yaml', (t) => t.replace(/^freshness:/m, '  - { name: alice, key: keys/alice.asc }\nfreshness:'));
  const r = await lint(dir, '--base', 'main');
  assert.is(r.code, 3);
  assert.equal(r.lines.length, 1, r.lines.join('\n'));
  assert.match(r.lines[0]!, /^channel\.yaml:13:10: \/version: the signers or their key files changed since main .*version must grow beyond 1/);
  await edit(dir, 'channel.yaml', (t) => t.replace(/^version: 1$/m, 'version: 2'));
  assert.is((await lint(dir, '--base', 'main')).code, 0);
});

Lint.run();
