// `duck release lint --base <ref>`: what a pull request must not do to what is already published.
// A release directory merged before is immutable (DESIGN §2): no file of it may change, appear or
// go away. And a change of the trust policy must raise channel.yaml's version, as agents demand.
import type { CommitTree } from '../channel/commit-tree.js';
import { assertVersionGrows, CHANNEL_FILE, readPolicy } from '../channel/trust-policy.js';
import type { LintProblem, TextOf } from './lint-problem.js';
import { positionOf } from './lint-problem.js';
import { toDuckError } from '../../../schemas/errors.js';
import type { LocalRepo } from './local-repo.js';

export async function lintAgainstBase(repo: LocalRepo, ref: string, work: CommitTree, textOf: TextOf): Promise<LintProblem[]> {
  const commit = await repo.resolveCommit(ref);
  const base = await repo.treeAt(commit);
  const short = `${ref} (${commit.slice(0, 12)})`;
  const problems: LintProblem[] = [];
  const problem = (file: string, message: string, line = 1): LintProblem => ({ file, line, column: 1, field: '', code: 'invalid', message });

  const published = groupByRelease(await base.listFiles('releases'));
  for (const [dir, baseFiles] of published) {
    const now = new Map((await work.listFiles(dir).catch(() => [])).map((f) => [f.path, f.oid]));
    if (now.size === 0) {
      problems.push(problem(`${dir}/release.yaml`, `the published release ${dir} was removed since ${short}: a published release never changes or goes away (pin the older version in the group instead)`));
      continue;
    }
    for (const [path, oid] of baseFiles) {
      const file = `${dir}/${path}`;
      const current = now.get(path);
      if (current === undefined) problems.push(problem(file, `removed from the published release ${dir} since ${short}: publish a new version instead`));
      else if (current !== oid) {
        const line = firstDifferentLine(await base.readFile(file), (await textOf(file)) ?? '');
        problems.push(problem(file, `changed since ${short}, but ${dir} is published: publish a new version instead`, line));
      }
    }
    for (const path of now.keys()) {
      if (!baseFiles.has(path)) problems.push(problem(`${dir}/${path}`, `added to the published release ${dir} since ${short}: publish a new version instead`));
    }
  }

  // An unreadable policy on either side is the main lint's concern (or was fine when merged).
  const before = await readPolicy(base, []).catch(() => null);
  const after = await readPolicy(work, []).catch(() => null);
  if (before && after) {
    try {
      if (before.identity !== after.identity) assertVersionGrows(before, after, 'working tree');
    } catch (err) {
      const where = (await positionOf(textOf, CHANNEL_FILE, '/version')) ?? { line: 1, column: 1 };
      const why = `the signers or their key files changed since ${short}, so version must grow beyond ${before.channelVersion}: agents refuse the change otherwise`;
      problems.push({ file: CHANNEL_FILE, ...where, field: '/version', code: toDuckError(err).code, message: why });
    }
  }
  return problems;
}

/** releases/<app>/<version> -> (path inside it -> blob id). Files outside a release dir are lint's main concern. */
function groupByRelease(files: ReadonlyArray<{ path: string; oid: string }>): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const { path, oid } of files) {
    const [app, version, ...rest] = path.split('/');
    if (app === undefined || version === undefined || rest.length === 0) continue;
    const dir = `releases/${app}/${version}`;
    const entry = out.get(dir) ?? new Map<string, string>();
    entry.set(rest.join('/'), oid);
    out.set(dir, entry);
  }
  return out;
}

/** The first line (1-based) where two texts differ, so the problem points at the edit. */
export function firstDifferentLine(before: Uint8Array, after: string): number {
  const a = new TextDecoder().decode(before).split('\n');
  const b = after.split('\n');
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i + 1;
  return 1;
}
