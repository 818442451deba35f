// Runs the cases (cases.ts) against a client through the protocol (protocol.ts): one real git
// smart-HTTP server (`git http-backend`) behind the hostile proxy, one repository and one state
// directory per case, the client called as a command for every step.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { startGitServer, type GitServer } from '../examples/harness/git-http-server.js';
import { makeOpenpgpKey, makeSshKey, type SshTestKey } from '../examples/harness/keys.js';
import { makeTempDir, removeTempDir } from '../examples/harness/tmp.js';
import type { ConformanceCase, Sign, Step } from './cases.js';
import { createCaseChannel, type CaseChannel, type Signing } from './channel/case-channel.js';
import { applyEdit, KEY_NAMES, SSH_KEY_TYPES, type CaseKeys } from './channel/content.js';
import { clientCommand, type Client, type ClientCall } from './client.js';
import { CLIENT_EXIT } from './protocol.js';
import { startHostileGitServer, type HostileGitServer } from './server/hostile-git-server.js';

export interface CaseResult {
  readonly name: string;
  readonly covers: string;
  readonly passed: boolean;
  /** Why it failed: what the client answered against what the case expects. */
  readonly problem?: string;
}

export interface RunOptions {
  /** The client's command (an executable, or a .js/.mjs file run with this node). */
  readonly client: string;
  readonly cases: readonly ConformanceCase[];
  /** How many cases run at once. */
  readonly concurrency?: number;
  /** Passed to `init --timeout`: how long a client may wait on a silent or trickling server. */
  readonly timeoutSeconds?: number;
  /** Called as each case ends. */
  readonly onResult?: (result: CaseResult) => void;
}

/** Everything one run shares: the servers, the keys, the root key file handed to every client. */
interface Bench {
  readonly root: string;
  readonly git: GitServer;
  readonly proxy: HostileGitServer;
  readonly keys: CaseKeys;
  readonly rootKeyFile: string;
}

export async function runSuite(opts: RunOptions): Promise<CaseResult[]> {
  const root = await makeTempDir('duck-conformance-');
  await mkdir(join(root, 'repos'));
  const git = await startGitServer({ root: join(root, 'repos') });
  const proxy = await startHostileGitServer(git.baseUrl, { trickleMs: 200 });
  const sshKeys: Array<readonly [string, SshTestKey]> = [];
  try {
    sshKeys.push(...(await Promise.all(Object.entries(SSH_KEY_TYPES).map(async ([name, type]) => [name, await makeSshKey(name, type)] as const))));
    const openpgpKeys = await Promise.all(KEY_NAMES.map(async (name) => [name, await makeOpenpgpKey(name)] as const));
    const keys = Object.fromEntries([...openpgpKeys, ...sshKeys]) as CaseKeys;
    const rootKeyFile = join(root, 'root.asc');
    await writeFile(rootKeyFile, keys.root.armoredPublicKey);
    const bench: Bench = { root, git, proxy, keys, rootKeyFile };
    const client = clientCommand(opts.client, { timeoutSeconds: opts.timeoutSeconds ?? 6 });
    const results: CaseResult[] = [];
    const queue = opts.cases.map((c, i) => ({ c, i }));
    const worker = async (): Promise<void> => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const result = await runCase(bench, client, next.c, next.i);
        results.push(result);
        opts.onResult?.(result);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 3) }, worker));
    const order = new Map(opts.cases.map((c, i) => [c.name, i]));
    return results.sort((a, b) => (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0));
  } finally {
    await proxy.close();
    await git.close();
    await removeTempDir(root);
    // ssh-keygen's key pairs live in temp dirs of their own.
    for (const [, key] of sshKeys) await removeTempDir(dirname(key.privateKeyFile));
  }
}

/** A case's failure, thrown where it is seen and turned into its result. */
class CaseFailure extends Error {}

async function runCase(bench: Bench, client: Client, c: ConformanceCase, index: number): Promise<CaseResult> {
  const ch = await createCaseChannel(join(bench.root, 'repos'), `case-${index}`);
  const stateDir = join(bench.root, 'state', `case-${index}`);
  const labels = new Map<string, string>();
  const channels: CaseChannel[] = [ch];
  try {
    const call = client.bind(stateDir);
    const init = await call(['init', '--state', stateDir, '--url', bench.proxy.url(ch.repo), '--branch', 'main', '--group', 'production', '--root-key', bench.rootKeyFile], 0);
    expectExit(init, CLIENT_EXIT.accepted, 'init');
    if (c.accepted.length > 0) {
      await publish(ch, bench.keys, c.accepted, labels);
      const first = await call(['verify', '--json'], 0);
      expectExit(first, CLIENT_EXIT.accepted, 'the verify of the accepted history');
    }
    const before = commitOf(await call(['status', '--json'], 0), 'status before');
    if (c.accepted.length > 0 && before !== labels.get(lastLabel(c.accepted))) {
      throw new CaseFailure(`status before names ${before}, not the accepted ${lastLabel(c.accepted)}`);
    }
    await publish(ch, bench.keys, c.then, labels);
    await behave(bench, ch, c, labels, channels, index);
    const hours = c.clockHours ?? 0;
    const verified = await call(['verify', '--json'], hours);
    bench.proxy.behave(ch.repo, undefined);
    const after = commitOf(await call(['status', '--json'], hours), 'status after');
    return { name: c.name, covers: c.covers, passed: true, ...judge(c, verified, before, after, labels) };
  } catch (err) {
    bench.proxy.behave(ch.repo, undefined);
    // A client that cannot be started fails its cases; it does not stop the suite.
    const problem = err instanceof CaseFailure ? err.message : `the case could not run: ${(err as Error).message}`;
    return { name: c.name, covers: c.covers, passed: false, problem };
  } finally {
    for (const made of channels) await made.dispose();
  }
}

/** The case's expectation against what the client answered: `passed: false` and why, or nothing. */
function judge(c: ConformanceCase, verified: ClientCall, before: string | null, after: string | null, labels: ReadonlyMap<string, string>): Partial<CaseResult> {
  const e = c.expect;
  const json = verified.json;
  const said = typeof json === 'string' ? json : JSON.stringify({ ok: json.ok, commit: json.commit, reason: json.reason, warnings: json.warnings });
  const fail = (problem: string): Partial<CaseResult> => ({ passed: false, problem: `${problem} (exit ${verified.code}, ${said})` });
  if (verified.code !== e.exit) return fail(`exit ${verified.code}, expected ${e.exit}${e.reason ? ` (${e.reason})` : ''}`);
  if (typeof json === 'string') return fail(`verify --json printed ${json}`);
  if (e.reason !== undefined && json.reason !== e.reason) return fail(`reason ${String(json.reason)}, expected ${e.reason}`);
  if (e.exit !== CLIENT_EXIT.accepted) {
    return after === before ? {} : fail(`the accepted commit moved from ${before} to ${after} on a ${e.reason} answer`);
  }
  const allowed = (typeof e.commit === 'string' ? [e.commit] : (e.commit ?? [])).map((label) => labels.get(label));
  if (!allowed.includes(String(json.commit))) return fail(`accepted ${String(json.commit)}, expected ${[e.commit].flat().join(' or ')}`);
  if (after !== json.commit) return fail(`status after names ${after}, not the accepted ${String(json.commit)}`);
  const warnings = Array.isArray(json.warnings) ? (json.warnings as Array<{ reason?: unknown }>).map((w) => w.reason) : [];
  if (e.warning !== undefined && !warnings.includes(e.warning)) return fail(`no ${e.warning} warning beside the accept`);
  return {};
}

/** The case's server behaviour for its repository, set once its history is published. */
async function behave(bench: Bench, ch: CaseChannel, c: ConformanceCase, labels: Map<string, string>, channels: CaseChannel[], index: number): Promise<void> {
  const s = c.server;
  if (!s) return;
  let serveFrom: string | undefined;
  if (s.rewrittenHistory) {
    const mirror = await createCaseChannel(join(bench.root, 'repos'), `case-${index}-mirror`);
    channels.push(mirror);
    await publish(mirror, bench.keys, s.rewrittenHistory, labels);
    serveFrom = mirror.repo;
  }
  // The moved tip is built and its objects pushed beside the branch now: the move itself is one
  // ref update, quick enough to leave the client's waiting download inside its idle deadline.
  let tip: string | undefined;
  if (s.moveTipBeforePack) {
    await commitSteps(ch, bench.keys, s.moveTipBeforePack, labels);
    await ch.publish({ ref: 'refs/conformance/moved' });
    tip = known(labels, lastLabel(s.moveTipBeforePack));
  }
  const movedTo = tip;
  bench.proxy.behave(ch.repo, {
    ...(s.mode ? { mode: s.mode } : {}),
    ...(serveFrom ? { serveFrom } : {}),
    ...(movedTo ? { beforePack: () => ch.setServedTip(movedTo) } : {}),
  });
}

async function publish(ch: CaseChannel, keys: CaseKeys, steps: readonly Step[], labels: Map<string, string>): Promise<void> {
  if (steps.length === 0) return;
  await ch.publish({ force: await commitSteps(ch, keys, steps, labels) });
}

/** Commits the steps in the work repository; whether the branch moved back (a publish must force). */
async function commitSteps(ch: CaseChannel, keys: CaseKeys, steps: readonly Step[], labels: Map<string, string>): Promise<boolean> {
  let force = false;
  for (const step of steps) {
    if ('resetTo' in step) {
      await ch.resetTo(known(labels, step.resetTo));
      force = true;
    } else if ('revert' in step) labels.set(step.as, await ch.revert(known(labels, step.revert), keys[step.sign]));
    else if ('approve' in step) labels.set(step.as, await ch.commit(`approve ${known(labels, step.approve)}`, keys[step.sign]));
    else {
      for (const edit of step.edits ?? []) await applyEdit(ch, keys, edit);
      labels.set(step.as, await ch.commit(`conformance: ${step.as}`, signingOf(step.sign, keys, labels)));
    }
  }
  return force;
}

function signingOf(sign: Sign, keys: CaseKeys, labels: ReadonlyMap<string, string>): Signing {
  if (sign === 'unsigned') return null;
  if (typeof sign === 'string') return keys[sign];
  if ('signatureOf' in sign) return { signatureOf: known(labels, sign.signatureOf) };
  return { ...sign, key: keys[sign.key] };
}

function known(labels: ReadonlyMap<string, string>, label: string): string {
  const oid = labels.get(label);
  if (!oid) throw new Error(`case step names ${label}, which no earlier step labels`);
  return oid;
}

function lastLabel(steps: readonly Step[]): string {
  const last = [...steps].reverse().find((s): s is Extract<Step, { as: string }> => 'as' in s);
  return last?.as ?? '';
}

function expectExit(r: ClientCall, code: number, what: string): void {
  if (r.code !== code) throw new CaseFailure(`${what}: exit ${r.code}, expected ${code}: ${(r.stdout + r.stderr).trim().slice(0, 400)}`);
}

function commitOf(r: ClientCall, what: string): string | null {
  expectExit(r, CLIENT_EXIT.accepted, what);
  if (typeof r.json === 'string') throw new CaseFailure(`${what}: ${r.json}`);
  const commit = r.json.commit;
  if (commit !== null && typeof commit !== 'string') throw new CaseFailure(`${what}: /commit is ${JSON.stringify(commit)}, not a commit id or null`);
  return commit;
}
