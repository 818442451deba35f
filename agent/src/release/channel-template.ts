// `duck release init`: a new channel from releases-repo-template/ — its README, CI files, groups
// and example releases — with the publisher's key as the first signer, as a git repository with
// its first commit.
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import fs, { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import git from 'isomorphic-git';
import { isMap, isScalar } from 'yaml';
import { DuckError } from '../../../schemas/errors.js';
import { editYamlText } from '../core/overlay-edits.js';
import { commitAll } from './commit-writer.js';
import { openLocalRepo } from './local-repo.js';
import type { SigningKey } from './signing-key.js';

export const TEMPLATE_NAME = 'releases-repo-template';

/** The template ships beside the code: found upwards from this module (source or built dist/). */
export function templateDir(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, TEMPLATE_NAME);
    if (existsSync(join(candidate, 'channel.yaml'))) return candidate;
    if (dirname(dir) === dir) throw new DuckError('config', `${TEMPLATE_NAME}/ not found above ${from}: is the Duck package complete?`);
  }
}

export interface InitOptions {
  readonly dir: string;
  readonly key: SigningKey | null;
  /** The signer's name in channel.yaml and its key file name (default: the key's user id name). */
  readonly name?: string | undefined;
  /** Leave out the example app: no releases, groups that pin nothing. */
  readonly empty: boolean;
  readonly env: NodeJS.ProcessEnv;
}

export interface InitResult {
  readonly commit: string;
  readonly signed: boolean;
  readonly keyFile: string | null;
}

export async function initChannel(opts: InitOptions): Promise<InitResult> {
  const entries = await readdir(opts.dir).catch(() => null);
  if (entries !== null && entries.length > 0) throw new DuckError('usage', `${opts.dir}: exists and is not empty; a channel starts in a new directory`, { file: opts.dir });
  await mkdir(opts.dir, { recursive: true });
  const template = templateDir();
  await cp(template, opts.dir, {
    recursive: true,
    filter: (src) => !(opts.empty && src.startsWith(join(template, 'releases', 'hello'))),
  });

  let keyFile: string | null = null;
  if (opts.key) {
    const name = opts.name ?? opts.key.name;
    keyFile = `keys/${name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '') || 'release-bot'}.asc`;
    await writeFile(join(opts.dir, keyFile), opts.key.armoredPublicKey);
    await editFile(join(opts.dir, 'channel.yaml'), (doc) => {
      const signers = doc.createNode([{ name, key: keyFile }]);
      const first = signers.items[0];
      const keyNode = isMap(first) ? first.get('key', true) : undefined;
      if (isScalar(keyNode)) keyNode.comment = ` fingerprint ${opts.key!.fingerprint}`;
      doc.set('signers', signers);
    });
  }
  if (opts.empty) {
    for (const group of ['canary', 'production']) {
      await editFile(join(opts.dir, 'groups', `${group}.yaml`), (doc) => doc.set('apps', doc.createNode({})));
    }
  }

  await git.init({ fs, dir: opts.dir, defaultBranch: 'main' });
  const repo = await openLocalRepo(opts.dir);
  const commit = await commitAll(repo, 'Create the release channel from the Duck template', opts.key, opts.env);
  return { commit, signed: opts.key !== null, keyFile };
}

async function editFile(file: string, edit: Parameters<typeof editYamlText>[1]): Promise<void> {
  const { text } = editYamlText(await readFile(file, 'utf8'), edit);
  await writeFile(file, text);
}
