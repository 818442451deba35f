// Release channels (DESIGN §2) built at test time, with commits signed by openpgp.js or GnuPG
// (§3) or not at all. A channel is a work repo plus the bare repo a git server serves; a channel
// host is that server with a root key, and the agent nodes that follow its channels.
import { mkdir, rm, symlink as fsSymlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as openpgp from 'openpgp';
import type { AgentNode } from '../../examples/harness/agent-node.js';
import { makeAgentNode } from '../../examples/harness/agent-node.js';
import type { GitServer } from '../../examples/harness/git-http-server.js';
import { startGitServer } from '../../examples/harness/git-http-server.js';
import type { GpgTestKey, OpenpgpTestKey, SshTestKey } from '../../examples/harness/keys.js';
import { makeOpenpgpKey, testEmail } from '../../examples/harness/keys.js';
import { makeTempDir, removeTempDir, run, type RunOptions } from '../../examples/harness/tmp.js';

/** `null` makes an unsigned commit. */
export type Signer = OpenpgpTestKey | GpgTestKey | SshTestKey | null;

export interface CommitOptions {
  /** Author and committer date (timezone +0000); defaults to now. */
  date?: Date;
  /**
   * openpgp.js only: the signature's creation time; defaults to now, as GnuPG signs at the
   * wall-clock time whatever the commit date. Set it to sign with a key that has since expired.
   */
  signedAt?: Date;
  /**
   * openpgp.js only: commit this tree object as it is instead of the work tree (a tree git itself
   * would refuse to write or check out, built with hash-object --literally); the index is left alone.
   */
  tree?: string;
  /** SSH keys only: git's gpg.ssh.program, ssh-keygen when absent (a wrapper can sign otherwise). */
  sshProgram?: string;
}

export interface Channel {
  readonly workDir: string;
  readonly bareDir: string;
  write(path: string, content: string | Uint8Array): Promise<void>;
  remove(path: string): Promise<void>;
  symlink(path: string, target: string): Promise<void>;
  commit(message: string, signer: Signer, opts?: CommitOptions): Promise<string>;
  commitWithSignature(message: string, gpgsig: string, opts?: { date?: Date }): Promise<string>;
  signatureOf(oid: string): Promise<string | null>;
  /**
   * HEAD's tree with one more entry in `dir`, each tree on the way written with hash-object
   * --literally (git's own checks refuse a name such as `..`); the new root tree's id.
   */
  treeWithEntry(dir: string, entry: RawTreeEntry): Promise<string>;
  revert(oid: string, signer: Signer, opts?: CommitOptions): Promise<string>;
  resetHard(oid: string): Promise<void>;
  publish(opts?: { force?: boolean }): Promise<void>;
  head(): Promise<string>;
  /** Runs git in workDir with the isolated environment; stdout verbatim (not trimmed). */
  git(...args: string[]): Promise<string>;
  /** Removes the work repo (the bare repo belongs to the server root). */
  dispose(): Promise<void>;
}

/** One entry of a git tree object as git writes it: mode (100644, 40000...), name, object id. */
export interface RawTreeEntry {
  readonly mode: string;
  readonly name: string;
  readonly oid: string;
}

const DEFAULT_AUTHOR = 'Duck Test';

/** A tree object's bytes, entries in git's order (a tree's name sorts as if it ended in `/`). */
function treeObject(entries: readonly RawTreeEntry[]): Buffer {
  const key = (e: RawTreeEntry): string => (e.mode === '40000' ? `${e.name}/` : e.name);
  const sorted = [...entries].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  return Buffer.concat(sorted.map((e) => Buffer.concat([Buffer.from(`${e.mode} ${e.name}\0`, 'utf8'), Buffer.from(e.oid, 'hex')])));
}

/**
 * An environment where the host's git configuration (global and system) has no say: no
 * commit.gpgsign, autocrlf, hooks path or identity leaks in from the machine running the tests.
 */
export function isolatedGitEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_NAME: DEFAULT_AUTHOR,
    GIT_AUTHOR_EMAIL: testEmail(DEFAULT_AUTHOR),
    GIT_COMMITTER_NAME: DEFAULT_AUTHOR,
    GIT_COMMITTER_EMAIL: testEmail(DEFAULT_AUTHOR),
    ...extra,
  };
}

export async function createChannel(opts: { serverRoot: string; name?: string }): Promise<Channel> {
  const workDir = await makeTempDir('duck-channel-');
  const bareDir = join(opts.serverRoot, `${opts.name ?? 'channel'}.git`);
  const git = async (args: readonly string[], more: RunOptions = {}): Promise<Buffer> =>
    (await run('git', args, { cwd: workDir, ...more, env: isolatedGitEnv(more.env) })).stdout;
  const text = async (...args: string[]): Promise<string> => (await git(args)).toString('utf8');

  await mkdir(opts.serverRoot, { recursive: true });
  await git(['init', '--bare', '--quiet', '--initial-branch=main', bareDir]);
  await git(['-C', bareDir, 'config', 'http.receivepack', 'true']);
  await git(['init', '--quiet', '--initial-branch=main', workDir]);
  await git(['remote', 'add', 'origin', bareDir]);

  const head = async (): Promise<string | null> => {
    const r = await run('git', ['rev-parse', '--verify', '--quiet', 'HEAD'], {
      cwd: workDir,
      env: isolatedGitEnv(),
      allowFailure: true,
    });
    return r.code === 0 ? r.stdout.toString('utf8').trim() : null;
  };

  // Builds the commit object byte by byte, so the payload signed is exactly what git will hand a
  // verifier after stripping the gpgsig header — CRLF, trailing spaces and UTF-8 included.
  const writeCommit = async (
    message: string,
    identity: string,
    date: Date,
    sign: (payload: Uint8Array) => Promise<string | null>,
    givenTree?: string,
  ): Promise<string> => {
    await git(['add', '-A']);
    const tree = givenTree ?? (await text('write-tree')).trim();
    const parent = await head();
    const when = `${Math.floor(date.getTime() / 1000)} +0000`;
    const headerLines = [
      `tree ${tree}`,
      ...(parent ? [`parent ${parent}`] : []),
      `author ${identity} ${when}`,
      `committer ${identity} ${when}`,
    ];
    const header = Buffer.from(headerLines.map((l) => `${l}\n`).join(''), 'utf8');
    const body = Buffer.from(`\n${message}`, 'utf8');
    const signature = await sign(Buffer.concat([header, body]));
    const object = Buffer.concat([header, signature ? gpgsigHeader(signature) : Buffer.alloc(0), body]);
    const oid = (await git(['hash-object', '-t', 'commit', '-w', '--stdin'], { input: object })).toString('utf8').trim();
    await git(['update-ref', 'refs/heads/main', oid]);
    if (!givenTree) await git(['reset', '--quiet']);
    return oid;
  };

  const entriesOf = async (tree: string): Promise<RawTreeEntry[]> =>
    (await text('ls-tree', tree))
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => {
        const [meta, name] = line.split('\t') as [string, string];
        const [mode, , oid] = meta.split(' ') as [string, string, string];
        return { mode: mode.replace(/^0/, ''), name, oid };
      });

  const treeWithEntry = async (tree: string, segments: readonly string[], entry: RawTreeEntry): Promise<string> => {
    const entries = await entriesOf(tree);
    const [first, ...rest] = segments;
    const replaced =
      first === undefined
        ? [...entries, entry]
        : await Promise.all(
            entries.map(async (e) => (e.name === first ? { ...e, oid: await treeWithEntry(e.oid, rest, entry) } : e)),
          );
    const object = treeObject(replaced);
    return (await git(['hash-object', '-t', 'tree', '-w', '--literally', '--stdin'], { input: object })).toString('utf8').trim();
  };

  const commitWithGit = async (message: string, signer: GpgTestKey | SshTestKey | null, date: Date, sshProgram?: string): Promise<string> => {
    await git(['add', '-A']);
    const name = signer?.name ?? DEFAULT_AUTHOR;
    const stamp = `@${Math.floor(date.getTime() / 1000)} +0000`;
    const env: NodeJS.ProcessEnv = {
      GIT_AUTHOR_NAME: name,
      GIT_AUTHOR_EMAIL: testEmail(name),
      GIT_COMMITTER_NAME: name,
      GIT_COMMITTER_EMAIL: testEmail(name),
      GIT_AUTHOR_DATE: stamp,
      GIT_COMMITTER_DATE: stamp,
      ...(signer?.kind === 'gpg' ? { GNUPGHOME: signer.gnupgHome } : {}),
    };
    const signing =
      signer?.kind === 'ssh'
        ? ['-c', 'gpg.format=ssh', '-c', `user.signingkey=${signer.privateKeyFile}`, '-c', `gpg.ssh.program=${sshProgram ?? 'ssh-keygen'}`, 'commit', '-S']
        : signer
          ? ['-c', `user.signingkey=${signer.fingerprint}`, '-c', 'gpg.program=gpg', 'commit', '-S']
          : ['commit', '--no-gpg-sign'];
    // -F from stdin with --cleanup=verbatim keeps the message bytes (CRLF, trailing spaces).
    await git([...signing, '--quiet', '--no-verify', '--allow-empty', '--allow-empty-message', '--cleanup=verbatim', '-F', '-'], {
      env,
      input: Buffer.from(message, 'utf8'),
    });
    return (await head()) ?? '';
  };

  const commit = async (message: string, signer: Signer, opts: CommitOptions = {}): Promise<string> => {
    const date = opts.date ?? new Date();
    if (signer?.kind !== 'openpgp') return commitWithGit(message, signer, date, opts.sshProgram);
    const identity = `${signer.name} <${testEmail(signer.name)}>`;
    return writeCommit(message, identity, date, (payload) => signDetached(payload, signer, opts.signedAt), opts.tree);
  };

  return {
    workDir,
    bareDir,
    write: async (path, content) => {
      const full = join(workDir, path);
      await mkdir(dirname(full), { recursive: true });
      await writeFile(full, content);
    },
    remove: (path) => rm(join(workDir, path), { recursive: true, force: true }),
    symlink: async (path, target) => {
      const full = join(workDir, path);
      await mkdir(dirname(full), { recursive: true });
      await fsSymlink(target, full);
    },
    commit,
    commitWithSignature: (message, gpgsig, opts = {}) =>
      writeCommit(message, `${DEFAULT_AUTHOR} <${testEmail(DEFAULT_AUTHOR)}>`, opts.date ?? new Date(), async () => gpgsig),
    signatureOf: async (oid) => parseGpgsig(await git(['cat-file', 'commit', oid])),
    treeWithEntry: async (dir, entry) => treeWithEntry((await text('rev-parse', 'HEAD^{tree}')).trim(), dir.split('/'), entry),
    revert: async (oid, signer, opts) => {
      await git(['revert', '--no-commit', oid]);
      const subject = (await text('log', '-1', '--format=%s', oid)).trim();
      return commit(`Revert "${subject}"\n\nThis reverts commit ${oid}.\n`, signer, opts);
    },
    resetHard: async (oid) => {
      await git(['reset', '--hard', '--quiet', oid]);
    },
    publish: async (o = {}) => {
      await git(['push', '--quiet', ...(o.force ? ['--force'] : []), 'origin', 'main:main']);
    },
    head: async () => {
      const oid = await head();
      if (!oid) throw new Error('channel has no commits yet');
      return oid;
    },
    git: (...args) => text(...args),
    dispose: () => removeTempDir(workDir),
  };
}

/** A channel on a host's server: `url` is what a node's agent.yaml names. */
export interface ServedChannel {
  readonly ch: Channel;
  readonly name: string;
  readonly url: string;
}

/** makeAgentNode's options but the channel and the keys, which the host fills in. */
export type HostNodeOptions = Omit<Parameters<typeof makeAgentNode>[0], 'url' | 'rootKeys'>;

/**
 * A git smart-HTTP server on a temp root, serving channels whose nodes trust one root key: what an
 * integration suite that publishes and verifies sets up first. close() stops the server and removes
 * every channel work repo, node and the root.
 */
export interface ChannelHost {
  readonly root: string;
  readonly server: GitServer;
  /** The one key the host's nodes trust (agent.yaml trust.keys). */
  readonly rootKey: OpenpgpTestKey;
  /** A new empty channel served as `<name>.git` (default: channel-<n>). */
  channel(name?: string): Promise<ServedChannel>;
  /** A node following `url`, trusting the root key. */
  node(url: string, opts?: HostNodeOptions): Promise<AgentNode>;
  /** A new channel and a node following it, through `server` when given (another server on the same root). */
  fresh(opts?: HostNodeOptions & { server?: GitServer }): Promise<ServedChannel & { node: AgentNode }>;
  close(): Promise<void>;
}

export async function startChannelHost(prefix: string): Promise<ChannelHost> {
  const root = await makeTempDir(prefix);
  const server = await startGitServer({ root });
  const rootKey = await makeOpenpgpKey('root');
  const channels: Channel[] = [];
  const nodes: AgentNode[] = [];
  let count = 0;
  const channel = async (name = `channel-${++count}`): Promise<ServedChannel> => {
    const ch = await createChannel({ serverRoot: root, name });
    channels.push(ch);
    return { ch, name, url: server.url(`${name}.git`) };
  };
  const node = async (url: string, opts: HostNodeOptions = {}): Promise<AgentNode> => {
    const made = await makeAgentNode({ url, rootKeys: [rootKey], ...opts });
    nodes.push(made);
    return made;
  };
  return {
    root,
    server,
    rootKey,
    channel,
    node,
    fresh: async ({ server: via, ...opts } = {}) => {
      const served = await channel();
      const url = via ? via.url(`${served.name}.git`) : served.url;
      return { ...served, url, node: await node(url, opts) };
    },
    close: async () => {
      await server.close();
      for (const ch of channels) await ch.dispose();
      for (const n of nodes) await removeTempDir(n.dir);
      await removeTempDir(root);
    },
  };
}

async function signDetached(payload: Uint8Array, key: OpenpgpTestKey, signedAt?: Date): Promise<string> {
  const signingKey = await openpgp.readPrivateKey({ armoredKey: key.armoredPrivateKey });
  // Binary, not text: git hands the verifier raw bytes, and a text signature would normalise
  // line endings and fail on a CRLF message.
  return openpgp.sign({
    message: await openpgp.createMessage({ binary: payload }),
    signingKeys: signingKey,
    detached: true,
    format: 'armored',
    ...(signedAt ? { date: signedAt } : {}),
  });
}

/** The gpgsig header as git writes it: continuation lines prefixed by one space. */
function gpgsigHeader(armored: string): Buffer {
  const lines = armored.replace(/\r\n/g, '\n').replace(/\n+$/, '').split('\n');
  return Buffer.from(`gpgsig ${lines.join('\n ')}\n`, 'utf8');
}

function parseGpgsig(object: Buffer): string | null {
  const end = object.indexOf('\n\n');
  const header = object.subarray(0, end < 0 ? object.length : end).toString('utf8').split('\n');
  const start = header.findIndex((l) => l.startsWith('gpgsig '));
  if (start < 0) return null;
  const lines = [header[start]!.slice('gpgsig '.length)];
  for (const line of header.slice(start + 1)) {
    if (!line.startsWith(' ')) break;
    lines.push(line.slice(1));
  }
  return `${lines.join('\n')}\n`;
}
