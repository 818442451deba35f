import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { defineCommand } from 'citty';
import { DuckError } from '../../../../../../schemas/errors.js';
import { addAgentRelease } from '../../../../release/add-agent-release.js';
import { channelArg } from '../../../release-args.js';
import { jsonArg } from '../../../common-args.js';
import { createOutput } from '../../../output.js';

export default defineCommand({
  meta: {
    name: 'add',
    description:
      'Write agents/<version>/agent.yaml from the build tarballs (duck-<version>-linux-<arch>.tar.gz, npm run build:artifact): per platform its URL under --url-base, sha256 and size. Upload the tarballs there yourself; the signed commit binds their hashes. Never overwrites a published version.',
  },
  args: {
    version: { type: 'string', description: 'the agent version the tarballs are builds of', valueHint: 'version', required: true },
    'url-base': { type: 'string', description: 'the HTTP(S) location the tarballs are served from: <url>/<file name>', valueHint: 'url', required: true },
    notes: { type: 'string', description: 'release notes from a file (Markdown)', valueHint: 'file' },
    ...channelArg,
    ...jsonArg,
  },
  async run({ args }) {
    const out = createOutput(args.json);
    // citty passes every positional through `_`: each is a tarball.
    const artifacts = (args._ as string[]).map((p) => resolve(p));
    if (artifacts.length === 0) throw new DuckError('usage', 'give the tarballs: duck release agent add duck-<version>-linux-<arch>.tar.gz… --version <version> --url-base <url>');
    const notes = args.notes !== undefined ? await readFile(args.notes, 'utf8') : undefined;
    const result = await addAgentRelease({ channel: resolve(args.channel), version: args.version, artifacts, urlBase: args['url-base'], notes });
    out.line(`wrote ${result.file}`);
    for (const [platform, a] of Object.entries(result.release.artifacts)) out.line(`  ${platform.padEnd(11)} ${a.url} (${a.size} bytes, sha256 ${a.sha256})`);
    out.line(`upload the tarballs to ${args['url-base'].replace(/\/+$/, '')}/, then: duck release agent set <group> ${args.version}; duck release lint; duck release commit -m "…"`);
    out.result({ ok: true, file: result.file, release: result.release });
  },
});
