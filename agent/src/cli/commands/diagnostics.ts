import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, resolve } from 'node:path';
import { defineCommand } from 'citty';
import { configPath } from '../../agent-config.js';
import type { Agent } from '../../agent.js';
import { openAgent } from '../../agent.js';
import type { ControllerClient } from '../../adapters/controller-client.js';
import { createControllerClient } from '../../adapters/controller-client.js';
import { acquireInstanceLock, DAEMON, instanceHolder } from '../../adapters/instance-lock.js';
import type { ControllerEnrollment } from '../../core/agent-state.js';
import { DuckError } from '../../../../schemas/errors.js';
import { ensureAgentId } from '../../desired-state.js';
import { buildBundle, defaultArchiveName } from '../../diagnostics/bundle.js';
import { currentEnrollment, ensureEnrolled } from '../../report/enrollment.js';
import { nodeFacts } from '../../report/facts.js';
import { configArg, jsonArg } from '../common-args.js';
import type { Output } from '../output.js';
import { createOutput } from '../output.js';
import { ask } from '../prompt.js';

export default defineCommand({
  meta: {
    name: 'diagnostics',
    description:
      "Build a .tar.gz of this node's diagnostics (config and overlay with secrets redacted, state summary, history, versions, OS and Docker facts, compose and agent logs) and list every file in it. --upload sends it to the controller, only after you say yes.",
  },
  args: {
    ...configArg,
    output: { type: 'string', description: 'where to write the archive (default: a timestamped file in the current directory)', valueHint: 'file' },
    upload: { type: 'boolean', description: 'upload the archive to the controller, after asking', default: false },
    yes: { type: 'boolean', description: 'with --upload: consent without being asked (scripts)', default: false },
    ...jsonArg,
  },
  async run({ args }) {
    const out = createOutput(args.json);
    const agent = await openAgent(configPath(args.config));
    const archive = resolve(args.output ?? defaultArchiveName(hostname(), agent.clock()));
    const bundle = await buildBundle(agent, archive);
    const width = Math.max(...bundle.files.map((f) => f.path.length));
    out.line(`files in ${archive}:`);
    for (const f of bundle.files) out.line(`  ${f.path.padEnd(width)}  ${String(f.bytes).padStart(9)} bytes`);
    out.line(`archive ${archive}: ${bundle.files.length} files, ${bundle.bytes} bytes`);
    const result = { ok: true, archive, bytes: bundle.bytes, files: bundle.files, uploaded: null as unknown };
    if (!args.upload) {
      out.result(result);
      return;
    }
    const controller = agent.config.controller;
    if (!controller) throw new DuckError('usage', `${agent.config.file} has no controller section: nothing to upload to; the archive is kept at ${archive}`, { file: agent.config.file, field: '/controller' });
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
    const client = createControllerClient(controller.url);
    const enrollment = await enrollmentFor(agent, client, out);
    const body = await readFile(archive);
    const uploaded = await client.uploadDiagnostics(enrollment.token, basename(archive), body);
    out.line(`uploaded to ${controller.url} as ${uploaded.id} (${uploaded.bytes} bytes, sha256 ${uploaded.sha256})`);
    out.result({ ...result, uploaded });
  },
});

/**
 * The agent's token, enrolling first when there is none. `duck run` is the only writer of the
 * state while it runs, so with a daemon and no enrollment yet this command waits for it instead.
 */
async function enrollmentFor(agent: Agent, client: ControllerClient, out: Output): Promise<ControllerEnrollment> {
  const agentId = agent.config.raw.agentId ?? agent.state.read().agentId;
  const known = agentId ? currentEnrollment(agent, client.url, agentId) : null;
  if (known) return known;
  const holder = await instanceHolder(agent.config.stateDir);
  if (holder?.what === DAEMON) {
    throw new DuckError('usage', `duck run (pid ${holder.pid}) has not enrolled with ${client.url} yet: try again once it has (see its "enrolled" log line)`);
  }
  const lock = await acquireInstanceLock(agent.config.stateDir, 'duck diagnostics');
  try {
    await ensureAgentId(agent);
    return await ensureEnrolled(agent, client, {
      facts: () => nodeFacts(agent.config.group),
      log: (_event, fields) => out.line(`enrolled with ${client.url} as ${String(fields?.agentId)}`),
    });
  } finally {
    await lock.release();
  }
}
