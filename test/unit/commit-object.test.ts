import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseCommitObject } from '../../agent/src/channel/commit-object.js';

const TREE = 'a'.repeat(40);
const PARENT = 'b'.repeat(40);
const SIG = ['-----BEGIN PGP SIGNATURE-----', '', 'iHUEABYKAB0WIQ', '=abcd', '-----END PGP SIGNATURE-----'];
const enc = new TextEncoder();

function raw(headers: string[], message: string): Uint8Array {
  return enc.encode(`${headers.join('\n')}\n\n${message}`);
}

const base = [`tree ${TREE}`, `parent ${PARENT}`, 'author A <a@x> 1700000000 +0000', 'committer C <c@x> 1700000100 +0100'];
const sigHeader = [`gpgsig ${SIG[0]}`, ...SIG.slice(1).map((l) => ` ${l}`)];

test('removes exactly the gpgsig header and its continuation lines from the signed payload', () => {
  const message = 'Release 1.2\r\n\r\nCafé ☕  \r\n';
  const signed = raw([...base, ...sigHeader], message);
  const c = parseCommitObject(signed, 'c'.repeat(40));
  assert.equal(Buffer.from(c.signedPayload).toString('utf8'), Buffer.from(raw(base, message)).toString('utf8'));
  assert.is(c.armoredSignature, SIG.join('\n') + '\n');
  assert.is(c.tree, TREE);
  assert.equal(c.parents, [PARENT]);
  assert.is(c.committedAt, 1700000100);
  assert.is(c.message, message);
});

test('keeps other multi-line headers such as mergetag in the payload', () => {
  const mergetag = ['mergetag object ' + PARENT, ' type commit', ' tag v1'];
  const withTag = [...base, ...mergetag];
  const c = parseCommitObject(raw([...withTag, ...sigHeader], 'merge\n'), 'c'.repeat(40));
  assert.equal(Array.from(c.signedPayload), Array.from(raw(withTag, 'merge\n')));
});

test('reads an unsigned commit as unsigned with the whole object as payload', () => {
  const bytes = raw(base, 'plain\n');
  const c = parseCommitObject(bytes, 'c'.repeat(40));
  assert.is(c.armoredSignature, null);
  assert.equal(Array.from(c.signedPayload), Array.from(bytes));
});

test('keeps non-UTF-8 message bytes untouched', () => {
  const head = enc.encode(`${base.join('\n')}\n\n`);
  const bytes = new Uint8Array([...head, 0xff, 0xfe, 0x0d, 0x0a]);
  const c = parseCommitObject(bytes, 'c'.repeat(40));
  assert.equal(Array.from(c.signedPayload), Array.from(bytes));
});

test('refuses a commit with two signature headers as bad-signature', () => {
  const twice = raw([...base, ...sigHeader, ...sigHeader], 'x\n');
  assert.throws(() => parseCommitObject(twice, 'c'.repeat(40)), (e: Error & { code?: string }) => e.code === 'bad-signature');
});

test('refuses a commit without a tree or committer', () => {
  const noTree = raw(base.slice(1), 'x\n');
  assert.throws(() => parseCommitObject(noTree, 'c'.repeat(40)), /missing tree/);
  const noCommitter = raw(base.slice(0, 3), 'x\n');
  assert.throws(() => parseCommitObject(noCommitter, 'c'.repeat(40)), /missing committer/);
});

test.run();
