// `duck release announce`: one notice appended to announcements.yaml (DESIGN §4.10), the way a
// person would add it: the file's comments and entries kept, an id never reused. The file is never
// written in a form lint or agents would refuse.
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isSeq } from 'yaml';
import type { Announcement } from '../../../schemas/index.js';
import { parseYaml } from '../../../schemas/index.js';
import { DuckError } from '../../../schemas/errors.js';
import { ANNOUNCEMENTS_FILE } from '../channel/read-announcements.js';
import { editYamlText } from '../core/overlay-edits.js';
import { parseVersionRange } from '../core/version-range.js';
import { channelNames, unknownTargets } from './announcement-targets.js';
import { walkTree } from './work-tree.js';

/** The file's text with `a` appended; refuses an id the file already has. Pure. */
export function appendAnnouncement(text: string, a: Announcement): string {
  const existing = parseYaml('announcements', text, ANNOUNCEMENTS_FILE);
  if (existing.some((e) => e.id === a.id)) {
    throw new DuckError('usage', `${ANNOUNCEMENTS_FILE}: an announcement with id ${a.id} exists: ids are never reused (choose another --id)`, { file: ANNOUNCEMENTS_FILE });
  }
  return editYamlText(text, (doc) => {
    if (isSeq(doc.contents)) doc.contents.add(doc.createNode(a));
    else doc.contents = doc.createNode([a]);
  }).text;
}

/** The option values checked before anything is written: ranges, and an expiry still ahead. */
export function checkAnnouncementArgs(a: Announcement, now: Date): void {
  const expires = Date.parse(a.expires);
  if (Number.isNaN(expires)) throw new DuckError('usage', `--expires "${a.expires}": expected an RFC 3339 time, e.g. 2026-12-31T00:00:00Z`);
  if (expires <= now.getTime()) throw new DuckError('usage', `--expires ${a.expires} is already past: the notice would never show`);
  const ranges = Object.entries(a.target?.apps ?? {}).map(([app, range]): [string, string] => [`--app ${app}=`, range]);
  if (a.target?.agent !== undefined) ranges.push(['--agent ', a.target.agent]);
  for (const [flag, range] of ranges) {
    const parsed = parseVersionRange(range);
    if ('error' in parsed) throw new DuckError('usage', `${flag}${range}: ${parsed.error}`);
  }
}

export async function addAnnouncement(channel: string, a: Announcement, now: Date): Promise<{ file: string }> {
  checkAnnouncementArgs(a, now);
  const { files } = await walkTree(channel);
  const [unknown] = unknownTargets(a, 0, channelNames(files));
  if (unknown) throw new DuckError('usage', `${unknown.message} in ${channel}`);
  const path = join(channel, ANNOUNCEMENTS_FILE);
  const text = appendAnnouncement(existsSync(path) ? await readFile(path, 'utf8') : '', a);
  parseYaml('announcements', text, ANNOUNCEMENTS_FILE);
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, text);
  await rename(temp, path);
  return { file: ANNOUNCEMENTS_FILE };
}
