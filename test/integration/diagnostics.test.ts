// `duck run --once` and `duck diagnostics` as an operator runs them (the built CLI), against a
// real duck-controller on loopback: enrollment through the loop, a bundle uploaded with consent
// and downloaded byte-identical without any secret of the config, and no upload without consent.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import type { AgentNode } from '../../examples/harness/agent-node.js';
import { readAgentState } from '../helpers/agent-state.js';
import type { ReportingContext } from '../helpers/controller.js';
import { adminJson, reportingNode, reportingSuite } from '../helpers/controller.js';

const CHANNEL_SECRET = 'chan-token-5f1d2c9a7e';
const DB_SECRET = 'db-pass-8c3b1e77';

interface AgentView {
  diagnostics: { id: string; bytes: number; sha256: string }[];
}

const Diag = reportingSuite('duck diagnostics and duck run reporting', 'diag-root');

/** A node with secrets in its config (channel token, enrollment token) and in its overlay's compose env. */
async function secretNode(ctx: ReportingContext): Promise<AgentNode> {
  const node = await reportingNode(ctx, { channelToken: CHANNEL_SECRET });
  await writeFile(node.overlayFile, stringify({ compose: { shop: { env: { PORT: '8081', DB_PASSWORD: DB_SECRET } } } }));
  return node;
}

Diag('duck run --once enrolls and reports; a second run keeps the id and token and does not enroll again', async (ctx) => {
  const node = await secretNode(ctx);
  const first = await node.duck('run', '--once');
  assert.match(first.stdout, / enrolled /, first.stdout + first.stderr);
  assert.match(first.stdout, / report-sent /, first.stdout + first.stderr);
  const enrolled = (await readAgentState(node.stateDir)).controller;
  assert.ok(enrolled);
  const second = await node.duck('run', '--once');
  assert.not.match(second.stdout, / enrolled /, second.stdout);
  assert.match(second.stdout, / report-sent /, second.stdout + second.stderr);
  assert.equal((await readAgentState(node.stateDir)).controller, enrolled);
  // The facts name the running build's version (schemas/build-info: the package.json above it).
  const { version } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  const detail = await adminJson<{ agent: { agentVersion: string } }>(ctx.ctl, `/api/v1/agents/${enrolled.agentId}`);
  assert.is(detail.agent.agentVersion, version);
});

Diag('duck diagnostics --upload --yes uploads a bundle the controller lists and serves byte-identical, with no secret of the config in it', async (ctx) => {
  const node = await secretNode(ctx);
  const archive = join(node.dir, 'bundle.tar.gz');
  const r = await node.duck('diagnostics', '--upload', '--yes', '--output', archive, '--json');
  assert.is(r.code, 0, r.stderr);
  const uploaded = r.json!.uploaded as { id: string; sha256: string };
  const files = (r.json!.files as { path: string }[]).map((f) => f.path);
  for (const want of ['config/agent.yaml', 'config/overlay.yaml', 'state/summary.json', 'state/history.json', 'versions.txt', 'os/uname.txt', 'missing.txt']) {
    assert.ok(files.some((f) => f.endsWith(want)), `${want} in ${files.join(', ')}`);
  }
  const local = await readFile(archive);
  const { agentId, token } = (await readAgentState(node.stateDir)).controller!;
  const view = await adminJson<AgentView>(ctx.ctl, `/api/v1/agents/${agentId}`);
  assert.ok(view.diagnostics.some((d) => d.id === uploaded.id && d.bytes === local.length), JSON.stringify(view.diagnostics));
  const res = await fetch(`${ctx.ctl.url}/api/v1/diagnostics/${uploaded.id}`, { headers: { authorization: `Bearer ${ctx.ctl.adminToken}` } });
  assert.is(res.status, 200);
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(local), 'the download is the archive, byte for byte');
  // A tar is the files' bytes one after another: a secret anywhere in the bundle shows up here.
  const tar = gunzipSync(local).toString('latin1');
  for (const secret of [CHANNEL_SECRET, DB_SECRET, ctx.ctl.enrollToken, token]) assert.not.ok(tar.includes(secret), `a secret leaked into the bundle`);
  assert.ok(tar.includes('8081'), 'ordinary overlay values are kept');
  assert.ok(tar.includes('[redacted]'));
});

Diag('duck diagnostics --upload without --yes and without a terminal uploads nothing and keeps the archive', async (ctx) => {
  const node = await secretNode(ctx);
  await node.duck('run', '--once');
  const { agentId } = (await readAgentState(node.stateDir)).controller!;
  const archive = join(node.dir, 'kept.tar.gz');
  const r = await node.duck('diagnostics', '--upload', '--output', archive);
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, /nothing was uploaded/);
  assert.ok(r.stderr.includes(archive), r.stderr);
  assert.ok(existsSync(archive));
  const view = await adminJson<AgentView>(ctx.ctl, `/api/v1/agents/${agentId}`);
  assert.equal(view.diagnostics, []);
});

Diag('without --upload the bundle stays local and lists every file with its size', async (ctx) => {
  const node = await secretNode(ctx);
  const archive = join(node.dir, 'local.tar.gz');
  const r = await node.duck('diagnostics', '--output', archive);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /config\/agent\.yaml\s+\d+ bytes/);
  assert.match(r.stdout, /missing\.txt\s+\d+ bytes/);
  assert.ok(existsSync(archive));
  const file = join(node.stateDir, 'state.json');
  assert.ok(!existsSync(file) || (await readAgentState(node.stateDir)).controller === null, 'nothing enrolled, nothing sent');
});

Diag.run();
