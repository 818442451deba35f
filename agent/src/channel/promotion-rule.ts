// What a promotion-only signer (channel.yaml `scope: promote`) may change, as pure functions of
// the difference between the base commit and the commit checked (DESIGN §3). Uptane's split: the
// full-scope publishers decide *what* is released, a promotion decides only *when* a group runs it.
import { isDeepStrictEqual } from 'node:util';
import type { GroupFile } from '../../../schemas/index.js';
import { compareVersions } from '../core/plan.js';
import type { TreeChange } from './tree-diff.js';

/** Why a change is out of a promotion's scope: the file and field, and what is wrong with it. */
export interface ScopeProblem {
  readonly file: string;
  readonly field: string;
  readonly message: string;
}

/** One changed group file, parsed with the group schema on both sides. */
export interface GroupChange {
  readonly file: string;
  readonly before: GroupFile;
  readonly after: GroupFile;
}

/** What the base commit publishes, for the versions the changed groups name. */
export interface Published {
  release(app: string, version: string): boolean;
  agent(version: string): boolean;
}

const GROUP_FILE = /^groups\/[^/]+\.yaml$/;
// The only fields of a group file a promotion moves; `agent` is compared apart (only its version).
const PROMOTION_FIELDS = new Set(['apps', 'rollout', 'agent']);

/**
 * The changed group files, or the first change no promotion may make: anything outside an
 * existing `groups/*.yaml` file — new or edited release content, agent builds, announcements, a
 * group added or removed.
 */
export function promotedGroupFiles(changes: readonly TreeChange[]): { files: string[] } | { problem: ScopeProblem } {
  const files: string[] = [];
  for (const change of changes) {
    if (change.kind !== 'modified' || !GROUP_FILE.test(change.path)) {
      return { problem: { file: change.path, field: '', message: `${change.kind}: only existing groups/*.yaml files may change in a promotion` } };
    }
    files.push(change.path);
  }
  return { files };
}

/**
 * The first problem with one changed group file: a field other than the app versions, the rollout
 * and the agent version changed; an app removed (taking an app off a group's nodes is a decision
 * about content, and would step around the floor); a version not published in the base; an app
 * below its promotion floor.
 */
export function groupChangeProblem(change: GroupChange, published: Published, floor: Readonly<Record<string, string>>): ScopeProblem | null {
  const { file, before, after } = change;
  const problem = (field: string, message: string): ScopeProblem => ({ file, field, message });
  const was = new Map(Object.entries(before));
  const is = new Map(Object.entries(after));
  for (const key of [...new Set([...was.keys(), ...is.keys()])].sort()) {
    if (PROMOTION_FIELDS.has(key) || isDeepStrictEqual(was.get(key), is.get(key))) continue;
    return problem(`/${key}`, 'only app versions, rollout and agent.version may change in a promotion');
  }
  if (before.agent && !after.agent) return problem('/agent', 'the agent pin may not be removed in a promotion');
  if (after.agent && !published.agent(after.agent.version)) {
    return problem('/agent/version', `${after.agent.version} is not published (agents/${after.agent.version}/agent.yaml)`);
  }
  for (const app of Object.keys(before.apps)) {
    if (!(app in after.apps)) return problem(`/apps/${app}`, 'an app may not be removed from a group in a promotion');
  }
  for (const [app, version] of Object.entries(after.apps)) {
    if (!published.release(app, version)) return problem(`/apps/${app}`, `${version} is not published`);
    const bound = floor[app];
    // Every version the file names, not only the one moved: a group left below a floor raised since
    // is brought up by a full-scope signer, never carried along by a promotion.
    if (bound !== undefined && compareVersions(version, bound) < 0) {
      return problem(`/apps/${app}`, `${version} is below the promotion floor ${bound}`);
    }
  }
  return null;
}

/** "groups/production.yaml: /apps/shop: 9.9.9 is not published" */
export function describeProblem(p: ScopeProblem): string {
  return [p.file, p.field, p.message].filter((part) => part !== '').join(': ');
}
