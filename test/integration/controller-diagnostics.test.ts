// Diagnostics uploads over real HTTP: stored under a name the controller makes inside the data
// directory whatever the client calls the file, downloaded byte for byte, and refused past the cap
// (declared up front or counted while streaming) or when it is no gzip-compressed tar, with nothing
// left behind.
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { gzipSync } from 'node:zlib';
import { adminJson, controllerSuite, enrollAgent, tarGzOf, type TestController } from '../helpers/controller.js';

interface Ctx {
  ctl: TestController;
  token: string;
}

const CAP = 256 * 1024;
const test = controllerSuite<Ctx>('controller diagnostics', { controller: { maxDiagnosticsBytes: CAP } });

test.before(async (ctx) => {
  ctx.token = await enrollAgent(ctx.ctl, 'diag-a');
});

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

function upload(ctx: Ctx, data: Buffer, filename: string): Promise<Response> {
  return fetch(`${ctx.ctl.url}/api/v1/diagnostics`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ctx.token}`, 'content-type': 'application/gzip', 'x-duck-filename': filename },
    body: data,
  });
}

/** An upload without Content-Length (chunked), so only counting while streaming can catch it. */
function chunkedUpload(ctx: Ctx, chunks: number, chunkBytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const url = new URL('/api/v1/diagnostics', ctx.ctl.url);
    const req = request(url, { method: 'POST', headers: { authorization: `Bearer ${ctx.token}`, 'content-type': 'application/gzip' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    let sent = 0;
    const more = (): void => {
      while (sent < chunks) {
        sent++;
        if (!req.write(randomBytes(chunkBytes))) return void req.once('drain', more);
      }
      req.end();
    };
    more();
  });
}

async function diagnosticsFiles(ctl: TestController): Promise<string[]> {
  return (await readdir(join(ctl.dataDir, 'diagnostics'))).sort();
}

test('a path-like X-Duck-Filename is stored as <id>.tar.gz inside the data dir and downloads byte-identical', async (ctx) => {
  const data = await tarGzOf({ 'duck-diagnostics/state.bin': randomBytes(100_000), 'duck-diagnostics/os.txt': 'linux\n' });
  const res = await upload(ctx, data, '../../etc/passwd');
  assert.is(res.status, 201);
  const body = (await res.json()) as { id: string; bytes: number; sha256: string };
  assert.is(body.bytes, data.length);
  assert.is(body.sha256, sha256(data));
  assert.ok((await diagnosticsFiles(ctx.ctl)).includes(`${body.id}.tar.gz`));
  const list = await adminJson<{ diagnostics: { id: string; filename: string; agentId: string }[] }>(ctx.ctl, '/api/v1/diagnostics?agent=diag-a');
  const record = list.diagnostics.find((d) => d.id === body.id)!;
  assert.is(record.filename, 'passwd');
  assert.is(record.agentId, 'diag-a');
  const download = await fetch(`${ctx.ctl.url}/api/v1/diagnostics/${body.id}`, { headers: { authorization: `Bearer ${ctx.ctl.adminToken}` } });
  assert.is(download.status, 200);
  assert.is(download.headers.get('content-type'), 'application/gzip');
  assert.is(download.headers.get('content-disposition'), 'attachment; filename="passwd"');
  assert.ok(Buffer.from(await download.arrayBuffer()).equals(data));
  const agent = await adminJson<{ diagnostics: { id: string }[] }>(ctx.ctl, '/api/v1/agents/diag-a');
  assert.ok(agent.diagnostics.some((d) => d.id === body.id));
});

test('an upload whose Content-Length passes the cap gets 413 and leaves no file', async (ctx) => {
  const before = await diagnosticsFiles(ctx.ctl);
  const res = await upload(ctx, randomBytes(CAP + 1), 'big.tar.gz');
  assert.is(res.status, 413);
  assert.is(((await res.json()) as { error: string }).error, 'too-large');
  assert.equal(await diagnosticsFiles(ctx.ctl), before);
});

test('a chunked upload that passes the cap while streaming gets 413 and leaves no file', async (ctx) => {
  const before = await diagnosticsFiles(ctx.ctl);
  assert.is(await chunkedUpload(ctx, 40, 16 * 1024), 413);
  assert.equal(await diagnosticsFiles(ctx.ctl), before);
});

async function refusedAsNoBundle(ctx: Ctx, data: Buffer, problem: RegExp): Promise<void> {
  const before = await diagnosticsFiles(ctx.ctl);
  const res = await upload(ctx, data, 'bundle.tar.gz');
  const body = (await res.json()) as { error: string; message: string };
  assert.is(res.status, 400, JSON.stringify(body));
  assert.is(body.error, 'invalid');
  assert.match(body.message, 'the diagnostics bundle is not a gzip-compressed tar');
  assert.match(body.message, problem);
  assert.equal(await diagnosticsFiles(ctx.ctl), before, 'nothing kept');
}

test('a body that is not gzip, sent as application/gzip, gets 400 naming the bytes it starts with, and is not kept', async (ctx) => {
  await refusedAsNoBundle(ctx, Buffer.from('<html><body>not a bundle</body></html>'), /not gzip: it starts with 3c 68, not 1f 8b/);
  await refusedAsNoBundle(ctx, Buffer.alloc(0), /starts with nothing/);
});

test('gzip that holds no tar archive, or that is cut short, gets 400 saying so', async (ctx) => {
  await refusedAsNoBundle(ctx, gzipSync(Buffer.from('diagnostics of node-1\n'.repeat(100))), /not to a tar archive/);
  await refusedAsNoBundle(ctx, gzipSync(Buffer.from('short')), /less than one tar header/);
  const bundle = await tarGzOf({ 'state.bin': randomBytes(20_000) });
  await refusedAsNoBundle(ctx, bundle.subarray(0, bundle.length - 100), /does not inflate/);
});

test('uploads need an agent token, downloads the admin token; an unknown id is 404', async (ctx) => {
  const asAdmin = await fetch(`${ctx.ctl.url}/api/v1/diagnostics`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ctx.ctl.adminToken}`, 'content-type': 'application/gzip' },
    body: randomBytes(10),
  });
  assert.is(asAdmin.status, 403);
  const asAgent = await fetch(`${ctx.ctl.url}/api/v1/diagnostics`, { headers: { authorization: `Bearer ${ctx.token}` } });
  assert.is(asAgent.status, 403);
  const missing = await fetch(`${ctx.ctl.url}/api/v1/diagnostics/no-such-id`, { headers: { authorization: `Bearer ${ctx.ctl.adminToken}` } });
  assert.is(missing.status, 404);
});

test.run();
