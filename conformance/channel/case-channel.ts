// One case's release channel (DESIGN §2): a work repository and the bare repository the suite's git
// server serves, with commit objects written byte by byte and signed at run time (OpenPGP keys by
// openpgp.js, SSH keys by `ssh-keygen -Y sign`, as git does with gpg.format=ssh), so a case can
// sign with any key, leave a commit unsigned, carry a signature made for another commit or in
// another namespace, or change a commit's bytes after signing it. The suite ships this builder:
// it may not use the repository's test helpers.
import { mkdir, rm, symlink as fsSymlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as openpgp from 'openpgp';
import type { OpenpgpTestKey, SshTestKey } from '../../examples/harness/keys.js';
import { testEmail } from '../../examples/harness/keys.js';
import { makeTempDir, removeTempDir, run } from '../../examples/harness/tmp.js';

type SigningKey = OpenpgpTestKey | SshTestKey;

/** A signature by `key`, made wrong on purpose when asked: in another sshsig namespace than git's, or over bytes changed after. */
export interface KeySigning {
  readonly key: SigningKey;
  /** SSH keys only: `ssh-keygen -Y sign -n <namespace>` instead of `git`. */
  readonly namespace?: string;
  /** The commit's message is changed once the signature is made. */
  readonly changedAfterSigning?: boolean;
}

/** How a commit is signed: by a key, not at all, with the signature another commit carries, or a KeySigning. */
export type Signing = SigningKey | null | { readonly signatureOf: string } | KeySigning;

/** The sshsig namespace git signs and verifies commits in. */
const GIT_NAMESPACE = 'git';

export interface CaseChannel {
  /** The bare repository's path under the server root (`<name>.git`). */
  readonly repo: string;
  write(path: string, content: string | Uint8Array): Promise<void>;
  remove(path: string): Promise<void>;
  symlink(path: string, target: string): Promise<void>;
  /** Commits the work tree on top of HEAD; its commit id. */
  commit(message: string, signing: Signing): Promise<string>;
  /** `git revert` of `oid`, committed signed by `key`. */
  revert(oid: string, key: SigningKey): Promise<string>;
  /** Moves the branch back to `oid` (a later publish must force). */
  resetTo(oid: string): Promise<void>;
  /** Pushes the work repository's branch to the served one's `ref` (default: the branch itself). */
  publish(opts?: { force?: boolean; ref?: string }): Promise<void>;
  /** Points the served branch at `oid` (already pushed): a tip moved in one step, without a push. */
  setServedTip(oid: string): Promise<void>;
  dispose(): Promise<void>;
}

const AUTHOR = 'Conformance';

/** Git with none of the host's configuration (signing, hooks, autocrlf) and a fixed identity. */
function gitEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_NAME: AUTHOR,
    GIT_AUTHOR_EMAIL: testEmail(AUTHOR),
    GIT_COMMITTER_NAME: AUTHOR,
    GIT_COMMITTER_EMAIL: testEmail(AUTHOR),
  };
}

export async function createCaseChannel(serverRoot: string, name: string): Promise<CaseChannel> {
  const workDir = await makeTempDir('duck-conformance-work-');
  const repo = `${name}.git`;
  const bareDir = join(serverRoot, repo);
  const git = async (args: readonly string[], input?: Uint8Array): Promise<string> =>
    (await run('git', args, { cwd: workDir, env: gitEnv(), ...(input ? { input } : {}) })).stdout.toString('utf8');

  await git(['init', '--bare', '--quiet', '--initial-branch=main', bareDir]);
  await git(['init', '--quiet', '--initial-branch=main', workDir]);
  await git(['remote', 'add', 'origin', bareDir]);

  const head = async (): Promise<string | null> => {
    const r = await run('git', ['rev-parse', '--verify', '--quiet', 'HEAD'], { cwd: workDir, env: gitEnv(), allowFailure: true });
    return r.code === 0 ? r.stdout.toString('utf8').trim() : null;
  };

  // The payload signed is exactly the object git hands a verifier once the gpgsig header is cut.
  const commit = async (message: string, signing: Signing): Promise<string> => {
    await git(['add', '-A']);
    const tree = (await git(['write-tree'])).trim();
    const parent = await head();
    const moved = signing !== null && 'signatureOf' in signing ? signing.signatureOf : null;
    const by: KeySigning | null = signing === null || 'signatureOf' in signing ? null : 'key' in signing ? signing : { key: signing };
    const author = by?.key.name ?? AUTHOR;
    const identity = `${author} <${testEmail(author)}>`;
    const when = `${Math.floor(Date.now() / 1000)} +0000`;
    const header = Buffer.from(
      [`tree ${tree}`, ...(parent ? [`parent ${parent}`] : []), `author ${identity} ${when}`, `committer ${identity} ${when}`].map((l) => `${l}\n`).join(''),
    );
    const body = Buffer.from(`\n${message}\n`);
    const signature = by ? await sign(Buffer.concat([header, body]), by.key, by.namespace) : moved ? await signatureOf(git, moved) : null;
    const written = by?.changedAfterSigning ? Buffer.from(`\n${message} (changed after signing)\n`) : body;
    const object = Buffer.concat([header, signature ? gpgsigHeader(signature) : Buffer.alloc(0), written]);
    const oid = (await git(['hash-object', '-t', 'commit', '-w', '--stdin'], object)).trim();
    await git(['update-ref', 'refs/heads/main', oid]);
    await git(['reset', '--quiet']);
    return oid;
  };

  return {
    repo,
    write: async (path, content) => {
      await mkdir(dirname(join(workDir, path)), { recursive: true });
      await writeFile(join(workDir, path), content);
    },
    remove: (path) => rm(join(workDir, path), { recursive: true, force: true }),
    symlink: async (path, target) => {
      await mkdir(dirname(join(workDir, path)), { recursive: true });
      await fsSymlink(target, join(workDir, path));
    },
    commit,
    revert: async (oid, key) => {
      await git(['revert', '--no-commit', oid]);
      return commit(`Revert ${oid}`, key);
    },
    resetTo: async (oid) => {
      await git(['reset', '--hard', '--quiet', oid]);
    },
    publish: async ({ force = false, ref = 'refs/heads/main' } = {}) => {
      await git(['push', '--quiet', ...(force ? ['--force'] : []), 'origin', `main:${ref}`]);
    },
    setServedTip: async (oid) => {
      await git(['--git-dir', bareDir, 'update-ref', 'refs/heads/main', oid]);
    },
    dispose: () => removeTempDir(workDir),
  };
}

async function sign(payload: Uint8Array, key: SigningKey, namespace = GIT_NAMESPACE): Promise<string> {
  if (key.kind === 'ssh') {
    // What git runs for gpg.format=ssh: the payload on stdin, the armored signature on stdout.
    return (await run('ssh-keygen', ['-Y', 'sign', '-n', namespace, '-f', key.privateKeyFile], { input: payload })).stdout.toString('utf8');
  }
  if (namespace !== GIT_NAMESPACE) throw new Error(`an OpenPGP signature has no namespace (${key.name}, ${namespace})`);
  // Binary, not text: git hands the verifier the raw bytes.
  return openpgp.sign({
    message: await openpgp.createMessage({ binary: payload }),
    signingKeys: await openpgp.readPrivateKey({ armoredKey: key.armoredPrivateKey }),
    detached: true,
    format: 'armored',
  });
}

/** The gpgsig header as git writes it: continuation lines start with one space. */
function gpgsigHeader(armored: string): Buffer {
  return Buffer.from(`gpgsig ${armored.replace(/\r\n/g, '\n').trimEnd().split('\n').join('\n ')}\n`);
}

/** The armored signature a commit carries, for a case that moves it onto another commit. */
async function signatureOf(git: (args: readonly string[]) => Promise<string>, oid: string): Promise<string> {
  const header = (await git(['cat-file', 'commit', oid])).split('\n\n')[0] ?? '';
  const match = /^gpgsig (.*(?:\n .*)*)/m.exec(header);
  if (!match?.[1]) throw new Error(`commit ${oid} carries no signature to move`);
  return match[1].replace(/\n /g, '\n');
}
