// The cost of verifying one commit signature in the agent (issue 17): an SSH signature (sshsig over
// Node's crypto, made by `ssh-keygen -Y sign -n git` as git makes it) against one OpenPGP signature
// (openpgp.js, the EdDSA keys the tests use) verified in the same run, both through
// `verifyDetached`, the walk's own entry point. In-process and warmed up: openpgp.js's load time
// (a fifth of a second, paid once per process) is cli-startup's concern, not this group's.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as openpgp from 'openpgp';
import type { TrustedKey } from '../agent/src/channel/signature.js';
import { readTrustedKey, verifyDetached } from '../agent/src/channel/signature.js';
import type { SshKeyType } from '../examples/harness/keys.js';
import { makeOpenpgpKey, makeSshKey } from '../examples/harness/keys.js';
import { makeTempDir, removeTempDir, run } from '../examples/harness/tmp.js';
// Types only: index.ts runs the benchmarks when loaded, so a value import here would be a cycle.
import type { BenchReport, Comparison, Sample } from './index.js';

const RUNS = 9;
const PER_RUN = 100;
const PAYLOAD = Buffer.from(`tree ${'a'.repeat(40)}\nparent ${'b'.repeat(40)}\nauthor A <a@x> 1700000000 +0000\ncommitter A <a@x> 1700000000 +0000\n\nshop 1.2.0\n`);
const SSH_TYPES: readonly SshKeyType[] = ['ed25519', 'ecdsa-p256', 'rsa'];

interface Case {
  label: string;
  armored: string;
  keys: TrustedKey[];
}

export async function benchSignatureVerify(): Promise<BenchReport> {
  const dir = await makeTempDir('duck-bench-sig-');
  const keyDirs: string[] = [];
  try {
    const pgpKey = await makeOpenpgpKey('bench');
    const pgp: Case = {
      label: 'openpgp',
      armored: await openpgp.sign({
        message: await openpgp.createMessage({ binary: PAYLOAD }),
        signingKeys: await openpgp.readPrivateKey({ armoredKey: pgpKey.armoredPrivateKey }),
        detached: true,
        format: 'armored',
      }),
      keys: [await readTrustedKey(pgpKey.armoredPublicKey, 'bench.asc', 'bench', 'agent')],
    };
    const payloadFile = join(dir, 'payload');
    await writeFile(payloadFile, PAYLOAD);
    const rows: Comparison[] = [];
    for (const type of SSH_TYPES) {
      const key = await makeSshKey(`bench-${type}`, type);
      keyDirs.push(dirname(key.privateKeyFile));
      // ssh-keygen asks before overwriting a signature file, and without a terminal keeps the old one.
      await rm(`${payloadFile}.sig`, { force: true });
      await run('ssh-keygen', ['-Y', 'sign', '-n', 'git', '-f', key.privateKeyFile, payloadFile]);
      const ssh: Case = {
        label: type,
        armored: await readFile(`${payloadFile}.sig`, 'utf8'),
        keys: [await readTrustedKey(key.armoredPublicKey, `${type}.pub`, type, 'agent')],
      };
      const duck: Sample[] = [];
      const baseline: Sample[] = [];
      await timeOne(ssh);
      await timeOne(pgp);
      // Interleaved, so a burst of load on the shared machine hits both sides alike.
      for (let i = 0; i < RUNS; i++) {
        duck.push({ ms: await timeOne(ssh) });
        baseline.push({ ms: await timeOne(pgp) });
      }
      rows.push({ label: `verify one ${type} SSH signature`, duck, git: baseline, gitCommand: 'verifyDetached of one openpgp.js EdDSA signature over the same payload' });
    }
    return {
      title: 'Commit signature verification: SSH (sshsig, Node crypto) vs OpenPGP (openpgp.js)',
      baseline: 'openpgp',
      rows,
      notes: [`each sample: the mean of ${PER_RUN} verifications in one warmed-up process; the signatures verify (a failure throws)`],
    };
  } finally {
    for (const d of [dir, ...keyDirs]) await removeTempDir(d);
  }
}

/** Mean milliseconds of one verification, over PER_RUN in a row. */
async function timeOne(c: Case): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < PER_RUN; i++) await verifyDetached(PAYLOAD, c.armored, c.keys, new Date(), 'c'.repeat(40));
  return (performance.now() - start) / PER_RUN;
}
