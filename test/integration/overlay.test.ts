// The node overlay (DESIGN §4.1, §4.6) with real files: the chokidar watch keeps the last good
// overlay in force through bad edits, editOverlay writes atomically, and the real `duck pin`,
// `hold`, `schedule` CLI edits it against a signed channel, keeping the operator's comments.
import { chmod, lstat, mkdir, readdir, readFile, rename, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import type { OverlayFile } from '../../schemas/index.js';
import type { OverlayWatch } from '../../agent/src/adapters/overlay-file.js';
import { editOverlay, loadOverlay, watchOverlay } from '../../agent/src/adapters/overlay-file.js';
import type { DuckError } from '../../schemas/errors.js';
import { setHold, setPin } from '../../agent/src/core/overlay-edits.js';
import type { AgentNode } from '../../examples/harness/agent-node.js';
import { makeTempDir, removeTempDir } from '../../examples/harness/tmp.js';
import type { ChannelHost } from '../helpers/channel-builder.js';
import { startChannelHost } from '../helpers/channel-builder.js';
import { publishBasicChannel } from '../helpers/channel-fixtures.js';

async function until(what: string, condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// ---- watching ----

interface WatchCtx {
  dir: string;
  file: string;
  watch: OverlayWatch | null;
  changes: { overlay: OverlayFile; error: DuckError | null }[];
}

const Watch = suite<WatchCtx>('overlay watch', { dir: '', file: '', watch: null, changes: [] });

Watch.before.each(async (ctx) => {
  ctx.dir = await makeTempDir('duck-overlay-');
  ctx.file = join(ctx.dir, 'overlay.yaml');
  ctx.changes = [];
});
Watch.after.each(async (ctx) => {
  await ctx.watch?.close();
  ctx.watch = null;
  await removeTempDir(ctx.dir);
});

async function startWatch(ctx: WatchCtx): Promise<OverlayWatch> {
  ctx.watch = await watchOverlay(ctx.file, (overlay, error) => ctx.changes.push({ overlay, error }));
  return ctx.watch;
}

/** Writes the file and waits for the watch to report that version. */
async function writeAndWait(ctx: WatchCtx, text: string, seen: (c: WatchCtx['changes'][number]) => boolean): Promise<void> {
  const before = ctx.changes.length;
  await writeFile(ctx.file, text);
  await until(`a change after writing ${JSON.stringify(text)}`, () => ctx.changes.slice(before).some(seen));
}

Watch('an edit while the watch runs reaches onChange with the new overlay', async (ctx) => {
  await writeFile(ctx.file, '# node overlay\napproval: manual\n');
  const watch = await startWatch(ctx);
  assert.equal(watch.current(), { approval: 'manual' });
  await writeAndWait(ctx, '# node overlay\napproval: manual\npin: { shop: 1.2.0 }\n', (c) => c.overlay.pin?.shop === '1.2.0');
  assert.equal(ctx.changes.at(-1), { overlay: { approval: 'manual', pin: { shop: '1.2.0' } }, error: null });
  assert.equal(watch.current(), { approval: 'manual', pin: { shop: '1.2.0' } });
});

Watch('bad edits keep the last good overlay in force and report file, line and column', async (ctx) => {
  await writeFile(ctx.file, 'pin: { shop: 1.2.0 }\n');
  const watch = await startWatch(ctx);
  const good = { pin: { shop: '1.2.0' } };
  const bad: [string, string, RegExp][] = [
    ['a YAML syntax error', 'pin: { shop: 1.3.0\n', /overlay\.yaml:\d+:\d+: invalid YAML/],
    ['an unknown key', 'pin: { shop: 1.3.0 }\nhodl: { reason: typo }\n', /overlay\.yaml:2:1: unknown key "hodl"/],
    [
      'an unknown time zone',
      'pin: { shop: 1.3.0 }\nwindows:\n  - { days: [sat], start: "02:00", duration: 2h, timezone: Mars/Olympus_Mons }\n',
      /overlay\.yaml:3:60: \/windows\/0\/timezone: unknown time zone "Mars\/Olympus_Mons"/,
    ],
    ['a date that does not exist', 'hold: { reason: x, until: 2026-02-30 }\n', /overlay\.yaml:1:\d+: \/hold\/until: /],
  ];
  for (const [what, text, message] of bad) {
    await writeAndWait(ctx, text, (c) => c.error !== null && message.test(c.error.message));
    const last = ctx.changes.at(-1);
    assert.equal(last?.overlay, good, `${what}: onChange gets the last good overlay`);
    assert.equal(watch.current(), good, `${what}: current() is unchanged`);
    assert.is(watch.error()?.code, 'config', what);
    assert.is(watch.error()?.data.file, ctx.file, what);
    assert.type(watch.error()?.data.line, 'number', what);
    assert.type(watch.error()?.data.column, 'number', what);
  }
  await writeAndWait(ctx, 'pin: { shop: 1.3.0 }\n', (c) => c.error === null);
  assert.equal(watch.current(), { pin: { shop: '1.3.0' } });
  assert.is(watch.error(), null);
});

Watch('a deleted overlay is no overlay; created again, it is read', async (ctx) => {
  await writeFile(ctx.file, 'hold: { reason: freeze }\n');
  const watch = await startWatch(ctx);
  assert.equal(watch.current(), { hold: { reason: 'freeze' } });
  const before = ctx.changes.length;
  await unlink(ctx.file);
  await until('the deletion', () => ctx.changes.slice(before).some((c) => c.overlay.hold === undefined));
  assert.equal(watch.current(), {});
  assert.is(watch.error(), null);
  await writeAndWait(ctx, 'hold: { reason: again }\n', (c) => c.overlay.hold?.reason === 'again');
  assert.equal(watch.current(), { hold: { reason: 'again' } });
});

Watch('a file that does not exist yet is watched, and one replaced by rename is seen', async (ctx) => {
  const watch = await startWatch(ctx);
  assert.equal(watch.current(), {});
  assert.is(watch.error(), null);
  const temp = join(ctx.dir, '.overlay.yaml.swp');
  await writeFile(temp, 'pin: { web: 2.0.0 }\n');
  await rename(temp, ctx.file);
  await until('the renamed file', () => watch.current().pin?.web === '2.0.0');
  await writeFile(join(ctx.dir, 'unrelated.yaml'), 'bogus: [');
  await new Promise((r) => setTimeout(r, 300));
  assert.is(watch.error(), null, 'other files in the directory are not the overlay');
});

Watch('a bad overlay at start: nothing in force, the error reported', async (ctx) => {
  await writeFile(ctx.file, 'pin: shop\n');
  const watch = await startWatch(ctx);
  assert.equal(watch.current(), {});
  assert.match(watch.error()?.message ?? '', /overlay\.yaml:1:6: \/pin: must be a map/);
  await writeAndWait(ctx, 'pin: { shop: 1.0.0 }\n', (c) => c.error === null);
  assert.equal(watch.current(), { pin: { shop: '1.0.0' } });
});

Watch('a burst of writes is read once it settles', async (ctx) => {
  const watch = await startWatch(ctx);
  for (let i = 0; i < 10; i++) await writeFile(ctx.file, `pin: { shop: 1.0.${i} }\n`);
  await until('the last version', () => watch.current().pin?.shop === '1.0.9');
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(ctx.changes.length <= 5, `${ctx.changes.length} reads for one burst`);
});

// ---- editing ----

Watch('editOverlay writes by rename, keeps the mode, and leaves no temp file', async (ctx) => {
  await writeFile(ctx.file, '# ops\npin:\n  web: 2.0.0   # web team\n');
  await chmod(ctx.file, 0o600);
  const inode = (await stat(ctx.file)).ino;
  const overlay = await editOverlay(ctx.file, (doc) => void setPin(doc, 'shop', '1.0.0'));
  assert.equal(overlay, { pin: { web: '2.0.0', shop: '1.0.0' } });
  assert.is(await readFile(ctx.file, 'utf8'), '# ops\npin:\n  web: 2.0.0   # web team\n  shop: 1.0.0\n');
  const after = await stat(ctx.file);
  assert.is.not(after.ino, inode, 'a new inode: the file was replaced, never rewritten in place');
  assert.is(after.mode & 0o777, 0o600);
  assert.equal(await readdir(ctx.dir), ['overlay.yaml']);
});

Watch('editOverlay creates a missing overlay with mode 0644', async (ctx) => {
  const file = join(ctx.dir, 'etc', 'overlay.yaml');
  await editOverlay(file, (doc) => void setHold(doc, 'freeze'));
  assert.is(await readFile(file, 'utf8'), 'hold:\n  reason: freeze\n');
  assert.is((await stat(file)).mode & 0o777, 0o644);
});

Watch('editOverlay writes through a symlinked overlay, keeping the link', async (ctx) => {
  await mkdir(join(ctx.dir, 'real'));
  const real = join(ctx.dir, 'real', 'overlay.yaml');
  await writeFile(real, 'approval: manual\n');
  await symlink(real, ctx.file);
  await editOverlay(ctx.file, (doc) => void setPin(doc, 'shop', '1.0.0'));
  assert.ok((await lstat(ctx.file)).isSymbolicLink());
  assert.equal(parse(await readFile(real, 'utf8')), { approval: 'manual', pin: { shop: '1.0.0' } });
});

Watch('an edit with an invalid result throws and leaves the file byte-identical', async (ctx) => {
  const text = '# ops\npin: { web: 2.0.0 }   # web team\n';
  await writeFile(ctx.file, text);
  try {
    await editOverlay(ctx.file, (doc) => void setPin(doc, 'shop', 'not a version'));
    assert.unreachable('the edit was written');
  } catch (err) {
    assert.is((err as DuckError).code, 'config');
    assert.match((err as Error).message, /\/pin\/shop: must be a version.*nothing was written/);
  }
  assert.is(await readFile(ctx.file, 'utf8'), text);
});

Watch('an edit of an invalid overlay is refused: the agent would ignore the whole file', async (ctx) => {
  const text = 'pin: { shop: 1.0.0 }\nhodl: { reason: typo }\n';
  await writeFile(ctx.file, text);
  try {
    await editOverlay(ctx.file, (doc) => void setHold(doc, 'freeze'));
    assert.unreachable('the edit was written');
  } catch (err) {
    assert.match((err as Error).message, /overlay\.yaml:2:1: unknown key "hodl".*fix the overlay first/);
  }
  assert.is(await readFile(ctx.file, 'utf8'), text);
});

Watch('a missing overlay is no overlay', async (ctx) => {
  assert.equal(await loadOverlay(join(ctx.dir, 'missing.yaml')), {});
});

Watch.run();

// ---- the CLI against a signed channel ----

interface CliCtx {
  host: ChannelHost;
  url: string;
  node: AgentNode;
  overlay: string;
}

const Cli = suite<CliCtx>('duck pin, hold, schedule', {} as CliCtx);

const OPERATOR_OVERLAY = `# Overlay of this node: see ticket OPS-1234.
approval: manual      # we upgrade by hand here

pin:
  # web stays on 2.0.0 until the API migration
  web: 2.0.0          # owner: web team
`;

Cli.before(async (ctx) => {
  ctx.host = await startChannelHost('duck-overlay-cli-');
  const { ch, url, node } = await ctx.host.fresh();
  await publishBasicChannel(ch, ctx.host.rootKey);
  ctx.url = url;
  ctx.node = node;
  ctx.overlay = join(ctx.node.dir, 'overlay.yaml');
  const verified = await ctx.node.duck('verify');
  assert.is(verified.code, 0, verified.stderr);
});

Cli.after(async (ctx) => {
  await ctx.host.close();
});

Cli.before.each(async (ctx) => {
  await writeFile(ctx.overlay, OPERATOR_OVERLAY);
});

Cli('duck pin writes the pin after duck verify and keeps the operator\'s comments', async (ctx) => {
  const r = await ctx.node.duck('pin', 'shop', '1.0.0');
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout.trim(), `pinned shop to 1.0.0 in ${ctx.overlay}; the agent applies it on its next reconcile`);
  assert.is(await readFile(ctx.overlay, 'utf8'), `${OPERATOR_OVERLAY}  shop: 1.0.0\n`);
});

Cli('duck pin of a release the accepted commit lacks exits 3 and leaves the file byte-identical', async (ctx) => {
  const r = await ctx.node.duck('pin', 'shop', '9.9.9', '--json');
  assert.is(r.code, 3, r.stderr);
  assert.match(r.stderr, /refused: invalid: .*releases\/shop\/9\.9\.9\//);
  assert.is(r.json?.reason, 'invalid');
  assert.is(await readFile(ctx.overlay, 'utf8'), OPERATOR_OVERLAY);
});

Cli('duck pin refuses a malformed version with exit 2', async (ctx) => {
  const r = await ctx.node.duck('pin', 'shop', '../../etc');
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, /version "..\/..\/etc" must be a version/);
  assert.is(await readFile(ctx.overlay, 'utf8'), OPERATOR_OVERLAY);
});

Cli('duck pin before any duck verify asks for one, unless --force', async (ctx) => {
  const fresh = await ctx.host.node(ctx.url);
  const r = await fresh.duck('pin', 'shop', '1.0.0');
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /run `duck verify` first/);
  const forced = await fresh.duck('pin', 'shop', '1.0.0', '--force', '--json');
  assert.is(forced.code, 0, forced.stderr);
  assert.equal(forced.json, { ok: true, overlay: join(fresh.dir, 'overlay.yaml'), changed: true, app: 'shop', version: '1.0.0', previous: null, checked: false });
});

Cli('duck hold --reason --until, then duck unhold, leaves the overlay as it was', async (ctx) => {
  // Next year's last day: a fixed date would turn into a past one and be refused.
  const until = `${new Date().getFullYear() + 1}-12-31`;
  const held = await ctx.node.duck('hold', '--reason', 'freeze', '--until', until);
  assert.is(held.code, 0, held.stderr);
  assert.match(held.stdout, new RegExp(`held this node in ${ctx.overlay}: freeze until ${until}`));
  const text = await readFile(ctx.overlay, 'utf8');
  assert.ok(text.startsWith(OPERATOR_OVERLAY), text);
  assert.equal(parse(text).hold, { reason: 'freeze', until });
  const unheld = await ctx.node.duck('unhold', '--json');
  assert.is(unheld.code, 0, unheld.stderr);
  assert.equal(unheld.json, { ok: true, overlay: ctx.overlay, changed: true, previous: { reason: 'freeze', until } });
  assert.is(await readFile(ctx.overlay, 'utf8'), OPERATOR_OVERLAY);
});

Cli('duck hold without a reason says who held the node and when', async (ctx) => {
  const r = await ctx.node.duck('hold');
  assert.is(r.code, 0, r.stderr);
  assert.match(parse(await readFile(ctx.overlay, 'utf8')).hold.reason, /^held by \S+ on \d{4}-\d{2}-\d{2}$/);
});

Cli('duck hold --until refuses a date that does not exist or has passed, exit 2', async (ctx) => {
  for (const until of ['2026-02-30', 'next friday', '2020-01-01']) {
    const r = await ctx.node.duck('hold', '--until', until);
    assert.is(r.code, 2, `${until}: ${r.stderr}`);
    assert.match(r.stderr, /--until/);
  }
  assert.is(await readFile(ctx.overlay, 'utf8'), OPERATOR_OVERLAY);
});

Cli('duck schedule --at a future time writes it; --cancel removes it', async (ctx) => {
  const at = `${new Date().getFullYear() + 1}-11-25T02:00:00+08:00`;
  const r = await ctx.node.duck('schedule', 'shop', '--at', at);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`scheduled an upgrade of shop at ${at.replace('+', '\\+')} \\(in `));
  const text = await readFile(ctx.overlay, 'utf8');
  assert.ok(text.startsWith(OPERATOR_OVERLAY), text);
  assert.equal(parse(text).schedule, { shop: { at } });
  const cancelled = await ctx.node.duck('schedule', 'shop', '--cancel');
  assert.is(cancelled.code, 0, cancelled.stderr);
  assert.is(await readFile(ctx.overlay, 'utf8'), OPERATOR_OVERLAY);
});

Cli('duck schedule refuses a past time, a time without an offset and no time at all, exit 2', async (ctx) => {
  const cases: [string[], RegExp][] = [
    [['--at', '2020-01-01T00:00:00Z'], /--at 2020-01-01T00:00:00Z is in the past/],
    [['--at', '2030-11-25T02:00:00'], /has no offset/],
    [['--at', 'soon'], /not an RFC 3339 date-time/],
    [[], /--at <time>/],
  ];
  for (const [args, message] of cases) {
    const r = await ctx.node.duck('schedule', 'shop', ...args);
    assert.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  assert.is(await readFile(ctx.overlay, 'utf8'), OPERATOR_OVERLAY);
});

Cli('duck schedule of an app the accepted commit lacks exits 3 like duck pin, and writes nothing', async (ctx) => {
  const at = `${new Date().getFullYear() + 1}-11-25T02:00:00+08:00`;
  const r = await ctx.node.duck('schedule', 'nope', '--at', at, '--json');
  assert.is(r.code, 3, r.stderr);
  assert.match(r.stderr, /refused: invalid: the last accepted commit [0-9a-f]{12} has no app nope \(releases\/nope\/\); nothing was scheduled/);
  assert.is(r.json?.reason, 'invalid');
  assert.is(await readFile(ctx.overlay, 'utf8'), OPERATOR_OVERLAY);
});

Cli('duck schedule before any duck verify asks for one, unless --force; --cancel needs neither', async (ctx) => {
  const fresh = await ctx.host.node(ctx.url);
  const at = `${new Date().getFullYear() + 1}-11-25T02:00:00+08:00`;
  const r = await fresh.duck('schedule', 'shop', '--at', at);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /run `duck verify` first \(or schedule anyway with --force\)/);
  const forced = await fresh.duck('schedule', 'shop', '--at', at, '--force', '--json');
  assert.is(forced.code, 0, forced.stderr);
  assert.equal(forced.json, { ok: true, overlay: join(fresh.dir, 'overlay.yaml'), changed: true, app: 'shop', at, previous: null, checked: false });
  const cancelled = await fresh.duck('schedule', 'shop', '--cancel');
  assert.is(cancelled.code, 0, cancelled.stderr);
});

Cli('a malformed overlay is the node\'s own config error: exit 1 naming the file, line and field, never 3', async (ctx) => {
  const text = `${OPERATOR_OVERLAY}hodl: { reason: typo }\n`;
  await writeFile(ctx.overlay, text);
  const line = text.split('\n').length - 1;
  for (const args of [['status'], ['check'], ['pin', 'shop', '1.0.0']]) {
    const r = await ctx.node.duck(...args, '--json');
    assert.is(r.code, 1, `${args[0]}: ${r.stderr}`);
    assert.is(r.json?.reason, 'config', args[0]);
    assert.match(r.stderr, new RegExp(`${ctx.overlay.replaceAll('/', '\\/')}:${line}:1: unknown key "hodl"`), args[0]);
  }
  assert.is(await readFile(ctx.overlay, 'utf8'), text);
});

Cli('duck unpin removes the pin map with its last pin', async (ctx) => {
  const r = await ctx.node.duck('unpin', 'web');
  assert.is(r.code, 0, r.stderr);
  assert.is(await readFile(ctx.overlay, 'utf8'), '# Overlay of this node: see ticket OPS-1234.\napproval: manual      # we upgrade by hand here\n');
  const again = await ctx.node.duck('unpin', 'web');
  assert.is(again.code, 0, again.stderr);
  assert.match(again.stdout, /web is not pinned/);
});

Cli('every overlay command has --help', async (ctx) => {
  for (const command of ['pin', 'unpin', 'hold', 'unhold', 'schedule']) {
    const r = await ctx.node.duck(command, '--help');
    assert.is(r.code, 0, `${command}: ${r.stderr}`);
    assert.match(r.stdout, /--config/, command);
  }
});

Cli.run();
