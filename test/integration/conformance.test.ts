// The conformance suite (conformance/README.md) through its shipped command, `duck-conformance`,
// against Duck's own adapter: every case passes. Against a client that trusts whatever the server
// advertises, the suite fails and names the cases it failed: the suite can fail.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { makeTempDir, removeTempDir, run } from '../../examples/harness/tmp.js';
import { CASES } from '../../conformance/cases.js';
import { REFUSAL_CODES } from '../../schemas/errors.js';

const dist = (path: string): string => fileURLToPath(new URL(`../../dist/${path}`, import.meta.url));
const SUITE = dist('conformance/main.js');
const DUCK_ADAPTER = dist('conformance/clients/duck/adapter.js');

interface SuiteAnswer {
  code: number;
  stdout: string;
  results: Array<{ name: string; covers: string; passed: boolean; problem?: string }>;
}

async function conformance(client: string, ...args: string[]): Promise<SuiteAnswer> {
  const r = await run(process.execPath, [SUITE, '--client', client, '--json', ...args], { allowFailure: true });
  const stdout = r.stdout.toString('utf8');
  const parsed = JSON.parse(stdout || '{"results":[]}') as { results: SuiteAnswer['results'] };
  return { code: r.code, stdout: `${stdout}\n${r.stderr}`, results: parsed.results };
}

// A client that checks nothing: it takes the branch tip the server advertises (git ls-remote),
// as a naive mirror sync would. It gives up on a silent server as the protocol's --timeout says.
const TRUSTING_CLIENT = `
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
const text = { type: 'string' };
const { positionals, values } = parseArgs({ allowPositionals: true, strict: false, options: { state: text, url: text, branch: text, group: text, 'root-key': text, timeout: text } });
const file = values.state + '/accepted.json';
const saved = () => { try { return JSON.parse(readFileSync(file, 'utf8')); } catch { return { commit: null }; } };
if (positionals[0] === 'init') {
  mkdirSync(values.state, { recursive: true });
  writeFileSync(values.state + '/url', values.url);
} else if (positionals[0] === 'status') {
  console.log(JSON.stringify({ commit: saved().commit }));
} else {
  try {
    const url = readFileSync(values.state + '/url', 'utf8');
    const line = execFileSync('git', ['ls-remote', url, 'refs/heads/main'], { encoding: 'utf8', timeout: 8000 });
    const commit = line.split('\\t')[0];
    writeFileSync(file, JSON.stringify({ commit }));
    console.log(JSON.stringify({ ok: true, commit }));
  } catch (err) {
    console.log(JSON.stringify({ ok: false, reason: 'fetch', message: String(err) }));
    process.exitCode = 1;
  }
}
`;

const Conformance = suite('conformance suite');

Conformance('duck-conformance passes every case against Duck, one or more for every typed reason, stale and fetch', async () => {
  const covered = new Set(CASES.map((c) => c.covers));
  for (const reason of [...REFUSAL_CODES, 'stale', 'fetch', 'accept']) assert.ok(covered.has(reason), `no case covers ${reason}`);

  const r = await conformance(DUCK_ADAPTER);
  const failed = r.results.filter((c) => !c.passed);
  assert.equal(failed, [], r.stdout);
  assert.is(r.code, 0, r.stdout);
  assert.equal(r.results.map((c) => c.name), CASES.map((c) => c.name));
});

Conformance('duck-conformance fails a client that accepts whatever the server advertises, naming each case it failed', async () => {
  const dir = await makeTempDir('duck-conformance-client-');
  try {
    const client = join(dir, 'trusting-client.mjs');
    await writeFile(client, TRUSTING_CLIENT);
    const r = await conformance(client);
    assert.is(r.code, 1, r.stdout);
    const failed = new Set(r.results.filter((c) => !c.passed).map((c) => c.name));
    for (const c of CASES.filter((x) => x.expect.exit === 3)) assert.ok(failed.has(c.name), `${c.name} passed a client that checks nothing`);
    assert.ok(failed.has('stale-warns-and-accepts'), 'no stale warning, yet the case passed');
    assert.not.ok(failed.has('accept-advance'), 'the plain advance is what this client gets right');

    const human = await run(process.execPath, [SUITE, '--client', client, '--only', '^(unsigned-tip|accept-advance)$'], { allowFailure: true });
    const text = human.stdout.toString('utf8');
    assert.is(human.code, 1, text);
    assert.match(text, /^ok {4}accept-advance$/m);
    assert.match(text, /^FAIL {2}unsigned-tip: exit 0, expected 3 \(unsigned\)/m);
    assert.match(text, /1 of 2 cases passed; failed: unsigned-tip/);
  } finally {
    await removeTempDir(dir);
  }
});

Conformance.run();
