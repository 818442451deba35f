import { resolve } from 'node:path';
import { defineCommand } from 'citty';
import { formatProblem } from '../../../release/lint-problem.js';
import { lintChannel } from '../../../release/lint.js';
import { openLocalRepo } from '../../../release/local-repo.js';
import { channelArg } from '../../release-args.js';
import { jsonArg } from '../../common-args.js';
import { createOutput, EXIT } from '../../output.js';

export default defineCommand({
  meta: {
    name: 'lint',
    description:
      'Check the channel as agents will: schemas, pinned versions exist, safe paths, every file sha256, compose files, and with --base no published release changed. Prints file:line:col: field: message; exits 3 on any problem.',
  },
  args: {
    base: { type: 'string', description: 'compare with this revision (e.g. origin/main): published releases must be unchanged', valueHint: 'ref' },
    ...channelArg,
    ...jsonArg,
  },
  async run({ args }) {
    const out = createOutput(args.json);
    const dir = resolve(args.channel);
    const base = args.base !== undefined ? { repo: await openLocalRepo(dir), ref: args.base } : undefined;
    const result = await lintChannel(dir, base ? { base } : {});
    for (const problem of result.problems) out.line(formatProblem(problem));
    for (const t of result.thresholds.filter((r) => r.missing === 0)) out.line(`threshold met: ${t.paths.join(', ')}: ${t.count} needed, signed by ${t.signers.join(', ')}`);
    const summary = `${result.problems.length} problem${result.problems.length === 1 ? '' : 's'} in ${result.releases} releases and ${result.groups} groups${base ? `, compared with ${args.base}` : ''}`;
    if (!args.json) process.stderr.write(`${result.problems.length === 0 ? 'ok: ' : ''}${summary}\n`);
    const ok = result.problems.length === 0;
    out.result({ ok, ...(ok ? {} : { reason: 'invalid' }), problems: result.problems, releases: result.releases, groups: result.groups, ...(base ? { base: args.base, thresholds: result.thresholds } : {}) });
    if (result.problems.length > 0) process.exitCode = EXIT.refused;
  },
});
