import { resolve } from 'node:path';
import { defineCommand } from 'citty';
import { DuckError } from '../../../../schemas/errors.js';
import { buildNodeBundle, defaultArchive, uploadBundle } from '../../node/diagnostics.js';
import { configArg, jsonArg } from '../common-args.js';
import { openNode } from '../node-handle.js';
import { createOutput } from '../output.js';
import { ask } from '../prompt.js';
import { performFromCli } from '../request-command.js';
import { COMMAND_META } from './meta.js';

export default defineCommand({
  meta: COMMAND_META.diagnostics,
  args: {
    ...configArg,
    output: { type: 'string', description: 'where to write the archive (default: a timestamped file in the current directory)', valueHint: 'file' },
    upload: { type: 'boolean', description: 'upload the archive to the controller, after asking', default: false },
    yes: { type: 'boolean', description: 'with --upload: consent without being asked (scripts)', default: false },
    ...jsonArg,
  },
  async run({ args }) {
    const out = createOutput(args.json);
    const node = await openNode(args.config);
    const archive = args.output ? resolve(args.output) : defaultArchive(node);
    const bundle = await buildNodeBundle(node, archive);
    const width = Math.max(...bundle.files.map((f) => f.path.length));
    out.line(`files in ${archive}:`);
    for (const f of bundle.files) out.line(`  ${f.path.padEnd(width)}  ${String(f.bytes).padStart(9)} bytes${f.redactions > 0 ? `, ${f.redactions} redacted` : ''}`);
    out.line(`archive ${archive}: ${bundle.files.length} files, ${bundle.bytes} bytes`);
    const result = { ok: true, archive, bytes: bundle.bytes, files: bundle.files, uploaded: null as unknown };
    if (!args.upload) {
      out.result(result);
      return;
    }
    const controller = node.config.controller;
    if (!controller) throw new DuckError('usage', `${node.config.file} has no controller section: nothing to upload to; the archive is kept at ${archive}`, { file: node.config.file, field: '/controller' });
    const kib = Math.ceil(bundle.bytes / 1024);
    if (!args.yes) {
      // Consent is the operator's own answer (DESIGN §4.8): no terminal, no --yes, no upload.
      if (!process.stdin.isTTY) throw new DuckError('usage', `no terminal to ask for consent: pass --yes to upload; nothing was uploaded, the archive is kept at ${archive}`);
      const answer = await ask(`Upload ${archive} (${bundle.files.length} files, ${kib} KiB) to ${controller.url}? [y/N] `, '--yes');
      if (!/^y(es)?$/i.test(answer)) {
        out.line(`not uploaded; the archive is kept at ${archive}`);
        out.result({ ...result, declined: true });
        return;
      }
    }
    const uploaded = await uploadBundle(node, archive, async () => {
      const { result } = await performFromCli(node, { kind: 'enroll' });
      for (const line of result.lines) out.line(line);
      return openNode(args.config);
    });
    out.line(`uploaded to ${controller.url} as ${uploaded.id} (${uploaded.bytes} bytes, sha256 ${uploaded.sha256})`);
    out.result({ ...result, uploaded });
  },
});
