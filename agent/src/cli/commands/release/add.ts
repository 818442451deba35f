import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { defineCommand } from 'citty';
import { DuckError } from '../../../../../schemas/errors.js';
import { addRelease } from '../../../release/add-release.js';
import { channelArg } from '../../release-args.js';
import { jsonArg } from '../../common-args.js';
import { createOutput } from '../../output.js';

export default defineCommand({
  meta: {
    name: 'add',
    description:
      'Write releases/<app>/<version>/ from a build directory (compose file, the files it mounts, docker save archives in images/*.tar, an optional release.yaml with health/backup settings): image ids and archive digests from the archives, a sha256 for every file. Never overwrites a published version.',
  },
  args: {
    app: { type: 'positional', description: 'the app', required: true },
    version: { type: 'positional', description: 'the new version', required: true },
    from: { type: 'string', description: 'the build output directory', valueHint: 'dir', required: true },
    notes: { type: 'string', description: 'release notes', valueHint: 'text' },
    'notes-file': { type: 'string', description: 'release notes from a file', valueHint: 'file' },
    'archive-base-url': {
      type: 'string',
      description: 'serve the image archives from <url>/<file>.tar (you upload them) instead of shipping them in the release directory',
      valueHint: 'url',
    },
    ...channelArg,
    ...jsonArg,
  },
  async run({ args }) {
    const out = createOutput(args.json);
    if (args.notes !== undefined && args['notes-file'] !== undefined) throw new DuckError('usage', 'give --notes or --notes-file, not both');
    const notes = args['notes-file'] !== undefined ? (await readFile(args['notes-file'], 'utf8')).trimEnd() : args.notes;
    const result = await addRelease({
      channel: resolve(args.channel),
      app: args.app,
      version: args.version,
      from: resolve(args.from),
      notes,
      archiveBaseUrl: args['archive-base-url'],
    });
    out.line(`wrote ${result.dir}/ (${Object.keys(result.release.files).length} files)`);
    for (const image of result.release.images ?? []) {
      out.line(`  image  ${image.ref}${image.id ? ` ${image.id}` : ''}${image.archive ? ` archive ${image.archive.url} (${image.archive.size} bytes)` : ''}`);
    }
    for (const upload of result.uploads) out.line(`  upload ${upload} to ${args['archive-base-url']}/ before nodes need it`);
    for (const warning of result.warnings) out.warn(warning);
    out.line(`next: duck release promote <group> ${args.app}@${args.version}; duck release lint; duck release commit -m "…"`);
    out.result({ ok: true, dir: result.dir, release: result.release, uploads: result.uploads, warnings: result.warnings });
  },
});
