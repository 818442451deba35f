/**
 * The publisher's side of the demo, done the way DevOps would: `duck release` commands in a
 * working copy of the channel (made from releases-repo-template/), signed with an openpgp.js key
 * file, pushed over git smart HTTP to the repository the agent polls. A rollback is `git revert`
 * of a promotion, re-signed with `duck release sign` (DESIGN §2: history only moves forward).
 */
import { join } from 'node:path';
import { parse } from 'yaml';
import type { RunResult } from '../harness/tmp.js';
import { run } from '../harness/tmp.js';
import { DUCK_BIN } from '../harness/agent-node.js';
import type { GitServer } from '../harness/git-http-server.js';

/** The template's group without maintenance windows: every change may start at once. */
export const DEMO_GROUP = 'canary';
/** The signer's name in channel.yaml and keys/<name>.asc. */
const SIGNER_NAME = 'release-bot';
const SIGNER = { name: 'Duck demo release bot', email: 'release-bot@duck-demo.invalid' };

/** Native git with none of this machine's configuration (a global commit.gpgsign would call gpg). */
const GIT_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: SIGNER.name,
  GIT_AUTHOR_EMAIL: SIGNER.email,
  GIT_COMMITTER_NAME: SIGNER.name,
  GIT_COMMITTER_EMAIL: SIGNER.email,
  GIT_TERMINAL_PROMPT: '0',
};

export class ChannelPublisher {
  /** The commit last pushed: what agents may already run. */
  private pushed: string | null = null;

  private constructor(
    /** The working copy the publisher edits. */
    readonly dir: string,
    private readonly keyFile: string,
    /** The served repository's URL, which the agent polls and the publisher pushes to. */
    readonly url: string,
  ) {}

  /**
   * `duck release init --empty` from the template (its example app left out, groups pinning
   * nothing, so the node starts from nothing; the first commit signed), then a bare repository on
   * the git server to push to.
   */
  static async create(opts: { dir: string; keyFile: string; server: GitServer; repo: string }): Promise<ChannelPublisher> {
    const publisher = new ChannelPublisher(opts.dir, opts.keyFile, opts.server.url(opts.repo));
    await duck(['release', 'init', opts.dir, '--empty', '--key', opts.keyFile, '--name', SIGNER_NAME]);
    await git(opts.server.root, ['init', '--quiet', '--bare', '--initial-branch=main', join(opts.server.root, opts.repo)]);
    return publisher;
  }

  /** `duck release add` from a build directory, then a signed commit of its own. */
  async add(app: string, version: string, buildDir: string, notes: string): Promise<string> {
    await duck(['release', 'add', app, version, '--from', buildDir, '--notes', notes, '--channel', this.dir]);
    return this.commit(`release ${app} ${version}`);
  }

  /** `duck release promote` (one line of the group file), then a signed commit; returns its oid. */
  async promote(app: string, version: string): Promise<string> {
    await duck(['release', 'promote', DEMO_GROUP, `${app}@${version}`, '--channel', this.dir]);
    return this.commit(`promote ${app} ${version} to ${DEMO_GROUP}`);
  }

  /** `git revert` of a commit, re-signed with `duck release sign`; returns the new commit's oid. */
  async revert(oid: string): Promise<string> {
    await git(this.dir, ['-c', 'commit.gpgsign=false', 'revert', '--no-edit', oid]);
    await duck(['release', 'sign', '--key', this.keyFile, '--channel', this.dir]);
    await this.lint();
    return this.head();
  }

  async lint(): Promise<void> {
    await duck(['release', 'lint', '--channel', this.dir]);
  }

  /**
   * Pushes the working copy's branch to the served repository's `main`, after the check the
   * template's CI runs on a pull request: lint against what is published, so no published
   * release changed or vanished.
   */
  async push(): Promise<string> {
    if (this.pushed !== null) await duck(['release', 'lint', '--base', this.pushed, '--channel', this.dir]);
    await git(this.dir, ['push', '--quiet', this.url, 'HEAD:refs/heads/main']);
    this.pushed = await this.head();
    return this.pushed;
  }

  async head(): Promise<string> {
    return (await git(this.dir, ['rev-parse', 'HEAD'])).stdout.toString('utf8').trim();
  }

  /** The version the group file pins for `app` at HEAD, for the narration. */
  async pinnedVersion(app: string): Promise<string | null> {
    const shown = await git(this.dir, ['show', `HEAD:groups/${DEMO_GROUP}.yaml`]);
    const group = parse(shown.stdout.toString('utf8')) as { apps?: Record<string, string> } | null;
    return group?.apps?.[app] ?? null;
  }

  /** One line about HEAD: short oid, subject and whether its signature is there. */
  async describeHead(): Promise<string> {
    const text = (await git(this.dir, ['log', '-1', '--format=%h %s', 'HEAD'])).stdout.toString('utf8');
    const raw = await git(this.dir, ['cat-file', 'commit', 'HEAD']);
    const signed = /^gpgsig /m.test(raw.stdout.toString('utf8'));
    return `${text.trim()} (${signed ? 'signed' : 'UNSIGNED'})`;
  }

  private async commit(message: string): Promise<string> {
    await this.lint();
    await duck(['release', 'commit', '--message', message, '--key', this.keyFile, '--channel', this.dir]);
    return this.head();
  }
}

function duck(args: string[]): Promise<RunResult> {
  return run(process.execPath, [DUCK_BIN, ...args]);
}

function git(cwd: string, args: string[]): Promise<RunResult> {
  return run('git', args, { cwd, env: GIT_ENV });
}
