// A large signed release channel (DESIGN §2) written object by object from Node.
// The test channel builder spawns git several times per commit, which for thousands of commits
// takes minutes; `git fast-import` cannot carry gpgsig headers. So blobs, trees and commits are
// hashed and written here as loose objects, then packed by one `git repack` the way a hosted
// channel would be. Run this file directly for a self-check with native git (fsck, verify-commit).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { deflateSync } from 'node:zlib';
import * as openpgp from 'openpgp';
import { stringify } from 'yaml';
import { isolatedGitEnv } from '../test/helpers/channel-builder.js';
import { sha256 } from '../test/helpers/channel-fixtures.js';
import type { OpenpgpTestKey } from '../examples/harness/keys.js';
import { makeOpenpgpKey, makeVerifierHome, stopGpgAgent, testEmail } from '../examples/harness/keys.js';
import { makeTempDir, removeTempDir, run } from '../examples/harness/tmp.js';
import { mulberry32 } from '../test/helpers/seeded-random.js';

export interface ChannelShape {
  commits: number;
  groups: number;
  releases: number;
}

export const DEFAULT_SHAPE: ChannelShape = { commits: 5000, groups: 200, releases: 50 };

export const APP = 'shop';

export interface GeneratedChannel {
  readonly bareDir: string;
  readonly key: OpenpgpTestKey;
  /** Every commit on main, oldest first. */
  readonly commits: readonly string[];
  readonly tip: string;
  readonly groupNames: readonly string[];
  /** Adds one signed commit that pins a group to another version, and moves main to it. */
  appendPromotion(): Promise<string>;
}

type ObjectType = 'blob' | 'tree' | 'commit';

interface Dir {
  readonly entries: Map<string, Dir | string>;
  /** The tree's object id; null while something below it has changed. */
  oid: string | null;
}

/** Writes each distinct object once, as a loose object, exactly as git would name and store it. */
class LooseObjects {
  private readonly written = new Set<string>();
  constructor(private readonly gitDir: string) {}

  write(type: ObjectType, content: Uint8Array): string {
    const header = Buffer.from(`${type} ${content.length}\0`, 'latin1');
    const raw = Buffer.concat([header, content]);
    const oid = createHash('sha1').update(raw).digest('hex');
    if (this.written.has(oid)) return oid;
    // Not cached: `git repack -d` removes the fan-out directories it emptied.
    const dir = join(this.gitDir, 'objects', oid.slice(0, 2));
    mkdirSync(dir, { recursive: true });
    const file = join(dir, oid.slice(2));
    if (!existsSync(file)) writeFileSync(file, deflateSync(raw, { level: 1 }));
    this.written.add(oid);
    return oid;
  }
}

/** The channel's file tree kept in memory; only the directories on a changed path are rehashed. */
class WorkTree {
  private readonly root: Dir = { entries: new Map(), oid: null };
  constructor(private readonly objects: LooseObjects) {}

  write(path: string, content: string): void {
    const segments = path.split('/');
    const name = segments.pop()!;
    let dir = this.root;
    dir.oid = null;
    for (const segment of segments) {
      let next = dir.entries.get(segment);
      if (next === undefined) dir.entries.set(segment, (next = { entries: new Map(), oid: null }));
      if (typeof next === 'string') throw new Error(`${path}: ${segment} is a file`);
      next.oid = null;
      dir = next;
    }
    dir.entries.set(name, this.objects.write('blob', Buffer.from(content, 'utf8')));
  }

  treeOid(dir: Dir = this.root): string {
    if (dir.oid !== null) return dir.oid;
    // git orders entries by name bytes as if every directory name ended in '/'.
    const sorted = [...dir.entries].map(([name, child]) => ({ name, child, key: typeof child === 'string' ? name : `${name}/` }));
    sorted.sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
    const parts = sorted.map(({ name, child }) => {
      const isBlob = typeof child === 'string';
      const oid = isBlob ? child : this.treeOid(child);
      return Buffer.concat([Buffer.from(`${isBlob ? '100644' : '40000'} ${name}\0`, 'utf8'), Buffer.from(oid, 'hex')]);
    });
    dir.oid = this.objects.write('tree', Buffer.concat(parts));
    return dir.oid;
  }
}

function versionOf(index: number): string {
  return `1.${index}.0`;
}

function composeOf(version: string): string {
  return `services:\n  web:\n    image: duck-example/${APP}:${version}\n    restart: unless-stopped\n    ports:\n      - "8080:80"\n`;
}

function gpgsigHeader(armored: string): Buffer {
  const lines = armored.replace(/\r\n/g, '\n').replace(/\n+$/, '').split('\n');
  return Buffer.from(`gpgsig ${lines.join('\n ')}\n`, 'utf8');
}

export async function generateChannel(opts: {
  bareDir: string;
  shape?: ChannelShape;
  key?: OpenpgpTestKey;
  /** Date of the last generated commit; earlier commits are 30 minutes apart. */
  end?: Date;
  seed?: number;
}): Promise<GeneratedChannel> {
  const shape = opts.shape ?? DEFAULT_SHAPE;
  if (shape.releases < 2 || shape.commits < shape.releases) throw new Error('a channel needs at least 2 releases and a commit per release');
  const key = opts.key ?? (await makeOpenpgpKey('release-bot'));
  const signingKey = await openpgp.readPrivateKey({ armoredKey: key.armoredPrivateKey });
  const { bareDir } = opts;
  const git = (...args: string[]) => run('git', ['-C', bareDir, ...args], { env: isolatedGitEnv() });
  await run('git', ['init', '--bare', '--quiet', '--initial-branch=main', bareDir], { env: isolatedGitEnv() });

  const objects = new LooseObjects(bareDir);
  const tree = new WorkTree(objects);
  // Deterministic, so every run benchmarks the same channel shape and the same tree churn.
  const random = mulberry32(opts.seed ?? 7);
  const identity = `${key.name} <${testEmail(key.name)}>`;
  const groupNames = Array.from({ length: shape.groups }, (_, i) => `group-${String(i).padStart(3, '0')}`);
  const pinned = new Map<string, number>();
  const commits: string[] = [];
  let released = 0;

  const writeGroup = (group: string, release: number): void => {
    pinned.set(group, release);
    // The name in a comment keeps each group's blob distinct, as real group files (windows,
    // rollout) are; identical blobs would make the channel unrealistically cheap to transfer.
    tree.write(`groups/${group}.yaml`, `# ${group}\n${stringify({ apps: { [APP]: versionOf(release) } })}`);
  };
  const publish = (): string => {
    const version = versionOf(released++);
    const compose = composeOf(version);
    const dir = `releases/${APP}/${version}`;
    tree.write(`${dir}/compose.yaml`, compose);
    tree.write(`${dir}/release.yaml`, stringify({ app: APP, version, notes: `${APP} ${version}`, files: { 'compose.yaml': sha256(compose) } }));
    return `Publish ${APP} ${version}`;
  };
  const promote = (): string => {
    const group = groupNames[Math.floor(random() * groupNames.length)]!;
    const latest = released - 1;
    // Mostly forward to the newest release; a group already there is pinned back one (a hold).
    const target = pinned.get(group) !== latest ? latest : Math.max(0, latest - 1 - Math.floor(random() * Math.min(3, latest)));
    writeGroup(group, target);
    return `Promote ${group} to ${APP} ${versionOf(target)}`;
  };
  const commit = async (message: string, date: Date): Promise<string> => {
    const when = `${Math.floor(date.getTime() / 1000)} +0000`;
    const parent = commits.at(-1);
    const header = Buffer.from(
      [`tree ${tree.treeOid()}`, ...(parent ? [`parent ${parent}`] : []), `author ${identity} ${when}`, `committer ${identity} ${when}`]
        .map((l) => `${l}\n`)
        .join(''),
      'utf8',
    );
    const body = Buffer.from(`\n${message}\n`, 'utf8');
    // git verifies the commit bytes without the gpgsig header: sign exactly those, as binary.
    const signature = await openpgp.sign({
      message: await openpgp.createMessage({ binary: Buffer.concat([header, body]) }),
      signingKeys: signingKey,
      detached: true,
      format: 'armored',
    });
    const oid = objects.write('commit', Buffer.concat([header, gpgsigHeader(signature), body]));
    commits.push(oid);
    return oid;
  };

  const end = opts.end ?? new Date(Date.now() - 60_000);
  const stepMs = 30 * 60_000;
  const dateOf = (i: number): Date => new Date(end.getTime() - (shape.commits - 1 - i) * stepMs);

  // The first commit publishes two releases so that every later commit can promote something.
  tree.write('channel.yaml', stringify({ version: 1, signers: [{ name: key.name, key: `keys/${key.name}.asc` }] }));
  tree.write(`keys/${key.name}.asc`, key.armoredPublicKey);
  publish();
  publish();
  for (const group of groupNames) writeGroup(group, 0);
  await commit('Create the channel', dateOf(0));
  const releaseEvery = shape.commits / (shape.releases - 1);
  for (let i = 1; i < shape.commits; i++) {
    const due = released < shape.releases && i >= Math.round((released - 1) * releaseEvery);
    await commit(due ? publish() : promote(), dateOf(i));
  }
  await git('update-ref', 'refs/heads/main', commits.at(-1)!);
  // -d also removes the loose objects now in the pack, as a hosted repository would be.
  await git('repack', '-adq');

  return {
    bareDir,
    key,
    commits,
    get tip() {
      return commits.at(-1)!;
    },
    groupNames,
    appendPromotion: async () => {
      const oid = await commit(promote(), new Date());
      await git('update-ref', 'refs/heads/main', oid);
      return oid;
    },
  };
}

/** Native git's opinion of the generated channel: object integrity and signatures. */
export async function selfCheck(channel: GeneratedChannel): Promise<void> {
  const env = isolatedGitEnv();
  await run('git', ['-C', channel.bareDir, 'fsck', '--no-dangling', '--no-progress'], { env });
  const count = (await run('git', ['-C', channel.bareDir, 'rev-list', '--count', 'main'], { env })).stdout.toString().trim();
  if (Number(count) !== channel.commits.length) throw new Error(`main has ${count} commits, expected ${channel.commits.length}`);
  const home = await makeVerifierHome([channel.key]);
  try {
    const sample = [channel.commits[0]!, channel.commits[Math.floor(channel.commits.length / 2)]!, channel.tip];
    for (const oid of sample) await run('git', ['-C', channel.bareDir, 'verify-commit', oid], { env: { ...env, GNUPGHOME: home } });
  } finally {
    await stopGpgAgent(home);
    await removeTempDir(home);
  }
}

export function numberFlag(args: readonly string[], name: string, fallback: number): number {
  const at = args.indexOf(name);
  const value = at < 0 ? fallback : Number(args[at + 1]);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} needs a positive integer`);
  return value;
}

/** `--commits N --groups N --releases N`, for a quicker run than the default shape. */
export function shapeFromArgs(args: readonly string[]): ChannelShape {
  return {
    commits: numberFlag(args, '--commits', DEFAULT_SHAPE.commits),
    groups: numberFlag(args, '--groups', DEFAULT_SHAPE.groups),
    releases: numberFlag(args, '--releases', DEFAULT_SHAPE.releases),
  };
}

async function main(args: readonly string[]): Promise<void> {
  const shape = shapeFromArgs(args);
  const dir = await makeTempDir('duck-bench-gen-');
  try {
    const started = performance.now();
    const channel = await generateChannel({ bareDir: join(dir, 'channel.git'), shape });
    const generated = performance.now();
    const appended = await channel.appendPromotion();
    await selfCheck(channel);
    console.log(
      `generated ${shape.commits} commits, ${shape.groups} groups, ${shape.releases} releases in ${((generated - started) / 1000).toFixed(1)} s; ` +
        `appended ${appended.slice(0, 12)}; fsck and verify-commit passed`,
    );
  } finally {
    await removeTempDir(dir);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(process.argv.slice(2));
}
