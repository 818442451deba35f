// `duck release agent set`: a group asks its nodes for an agent version (DESIGN §4.7). The version
// must be published: a group asking for a missing agents/<version>/agent.yaml leaves its nodes
// with nothing to download. The group file is never written in a form agents would refuse.
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseYaml } from '../../../schemas/index.js';
import { DuckError } from '../../../schemas/errors.js';
import { agentReleasePath } from '../channel/read-agent-release.js';
import { invalidName } from '../core/overlay-edits.js';
import { setAgentInGroup } from './group-promotion.js';

export interface GroupAgentResult {
  /** groups/<group>.yaml */
  readonly file: string;
  readonly previous: string | undefined;
}

export async function setGroupAgent(channel: string, group: string, version: string): Promise<GroupAgentResult> {
  const bad = invalidName('app', group) ?? invalidName('version', version);
  if (bad) throw new DuckError('usage', bad.replace(/^app "/, 'group "'));
  const file = `groups/${group}.yaml`;
  const path = join(channel, 'groups', `${group}.yaml`);
  if (!existsSync(path)) throw new DuckError('usage', `${file}: no such group file in ${channel}`, { file });
  const releaseFile = agentReleasePath(version);
  if (!existsSync(join(channel, ...releaseFile.split('/')))) {
    throw new DuckError('usage', `agent ${version} does not exist: no ${releaseFile} (duck release agent add <tarballs> --version ${version} --url-base <url>)`, {
      file: releaseFile,
    });
  }
  const result = setAgentInGroup(await readFile(path, 'utf8'), version);
  parseYaml('group', result.text, file);
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, result.text);
  await rename(temp, path);
  return { file, previous: result.previous };
}
