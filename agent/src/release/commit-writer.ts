// Signed commits for a release bot without GnuPG (`duck release commit --key`, `duck release
// sign`), and the GnuPG path for people who have it (`-S`). The signature goes into a `gpgsig`
// header over the exact bytes git would sign, so `git verify-commit` and agents both accept it.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import git from 'isomorphic-git';
import { parseCommitObject } from '../channel/commit-object.js';
import { DuckError } from '../../../schemas/errors.js';
import type { LocalRepo } from './local-repo.js';
import type { SigningKey } from './signing-key.js';
import { signPayload } from './signing-key.js';

const run = promisify(execFile);

export interface Identity {
  readonly name: string;
  readonly email: string;
}

/**
 * Who the commit is by: GIT_AUTHOR_NAME/EMAIL, else the person's git config (read by native git,
 * which knows the global and system files isomorphic-git ignores), else the signing key's user id.
 */
export async function commitIdentity(dir: string, key: SigningKey | null, env: NodeJS.ProcessEnv): Promise<Identity> {
  const configured = async (name: string): Promise<string | undefined> =>
    run('git', ['config', '--get', name], { cwd: dir, env }).then(
      (r) => r.stdout.trim() || undefined,
      () => undefined,
    );
  const name = env.GIT_AUTHOR_NAME || (await configured('user.name')) || key?.name;
  const email = env.GIT_AUTHOR_EMAIL || (await configured('user.email')) || key?.email;
  if (!name || !email) {
    throw new DuckError('config', 'no commit identity: set GIT_AUTHOR_NAME and GIT_AUTHOR_EMAIL, or git config user.name / user.email, or sign with --key');
  }
  return { name, email };
}

/**
 * Stages everything and commits, signed with `key` when given (else unsigned). Returns the commit id.
 * `empty`: commit HEAD's tree as it is, staging nothing (an approval, `duck release approve`).
 */
export async function commitAll(repo: LocalRepo, message: string, key: SigningKey | null, env: NodeJS.ProcessEnv, opts: { empty?: boolean } = {}): Promise<string> {
  if (!opts.empty) await repo.stageAll();
  if (!opts.empty && (await repo.head()) !== null && (await repo.trackedChanges()).length === 0) {
    throw new DuckError('usage', `${repo.dir}: nothing to commit (no change since HEAD)`);
  }
  const identity = await commitIdentity(repo.dir, key, env);
  const committer = { name: env.GIT_COMMITTER_NAME || identity.name, email: env.GIT_COMMITTER_EMAIL || identity.email };
  return git.commit({
    fs,
    dir: repo.dir,
    message: message.endsWith('\n') ? message : `${message}\n`,
    author: identity,
    committer,
    ...(key
      ? {
          signingKey: key.fingerprint,
          // isomorphic-git hands over the commit text it is about to write; signing its UTF-8 bytes
          // signs exactly the object bytes without the gpgsig header.
          onSign: async ({ payload }: { payload: string }) => ({ signature: await signPayload(Buffer.from(payload, 'utf8'), key) }),
        }
      : {}),
  });
}

/**
 * Re-signs HEAD: the same tree, parents, author, committer and message, byte for byte, with a new
 * signature (an old one is replaced). For a merge made by CI or a `git revert` made without GnuPG.
 */
export async function resignHead(repo: LocalRepo, key: SigningKey): Promise<{ previous: string; commit: string }> {
  const previous = await repo.head();
  if (previous === null) throw new DuckError('usage', `${repo.dir}: no commit to sign yet`);
  const changed = await repo.trackedChanges();
  if (changed.length > 0) {
    throw new DuckError('usage', `${repo.dir}: uncommitted changes (${changed.slice(0, 3).join(', ')}${changed.length > 3 ? ', …' : ''}): commit them first (duck release commit), then sign`, {
      file: changed[0],
    });
  }
  const raw = await repo.objects.readCommitRaw(previous);
  const payload = parseCommitObject(raw, previous).signedPayload;
  const signed = withSignature(payload, await signPayload(payload, key));
  const commit = await git.writeObject({ fs, dir: repo.dir, type: 'commit', object: signed, format: 'content' });
  await repo.moveHead(commit);
  return { previous, commit };
}

/** The unsigned commit bytes with a `gpgsig` header added as git writes it (continuation lines indented). */
export function withSignature(payload: Uint8Array, armored: string): Uint8Array {
  const bytes = Buffer.from(payload);
  const end = bytes.indexOf('\n\n');
  if (end < 0) throw new DuckError('internal', 'commit object without a header end');
  const lines = armored.replace(/\r\n/g, '\n').replace(/\n+$/, '').split('\n');
  const header = Buffer.from(`gpgsig ${lines.join('\n ')}\n`, 'utf8');
  return Buffer.concat([bytes.subarray(0, end + 1), header, bytes.subarray(end + 1)]);
}

/** `git add -A && git commit -S -m message` with the person's own GnuPG setup; `empty` stages nothing. */
export async function commitWithGnupg(dir: string, message: string, env: NodeJS.ProcessEnv, opts: { empty?: boolean } = {}): Promise<string> {
  try {
    if (!opts.empty) await run('git', ['add', '-A'], { cwd: dir, env });
    await run('git', ['commit', '--quiet', '-S', ...(opts.empty ? ['--allow-empty'] : []), '-m', message], { cwd: dir, env });
    return (await run('git', ['rev-parse', 'HEAD'], { cwd: dir, env })).stdout.trim();
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    const why = (e.stderr || e.stdout || e.message).trim();
    throw new DuckError('io', `git commit -S failed in ${dir}: ${why}`, { file: dir }, 'stalled');
  }
}
