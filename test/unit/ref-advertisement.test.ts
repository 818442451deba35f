// The ref advertisement the agent reads on every poll without isomorphic-git (issue 13): what a
// smart-HTTP git server sends for `info/refs?service=git-upload-pack`, and what is refused.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAdvertisement, redirectedRepository } from '../../agent/src/adapters/ref-advertisement.js';

const pkt = (line: string): string => `${(line.length + 4).toString(16).padStart(4, '0')}${line}`;
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

test('reads every advertised ref, the first one carrying the capabilities after a NUL', () => {
  const body = [pkt('# service=git-upload-pack\n'), '0000', pkt(`${A} HEAD\0multi_ack side-band-64k symref=HEAD:refs/heads/main\n`), pkt(`${A} refs/heads/main\n`), pkt(`${B} refs/heads/next\n`), '0000'].join('');
  const { refs, capabilities } = parseAdvertisement(Buffer.from(body));
  assert.equal([...capabilities], ['multi_ack', 'side-band-64k', 'symref=HEAD:refs/heads/main']);
  assert.equal([...refs], [
    ['HEAD', A],
    ['refs/heads/main', A],
    ['refs/heads/next', B],
  ]);
});

test('an empty repository advertises no ref', () => {
  const body = [pkt('# service=git-upload-pack\n'), '0000', pkt(`${'0'.repeat(40)} capabilities^{}\0agent=git/2\n`), '0000'].join('');
  assert.is(parseAdvertisement(Buffer.from(body)).refs.size, 0);
});

test('a page that is not an advertisement (a dumb server, a login page) is refused, quoting its start', () => {
  assert.throws(() => parseAdvertisement(Buffer.from('<html><body>Sign in</body></html>')), /not a smart-HTTP ref advertisement \(it starts "<html>/);
});

test('a packet running past the end or a malformed ref line is refused', () => {
  assert.throws(() => parseAdvertisement(Buffer.from(`${pkt('# service=git-upload-pack\n')}0000${pkt(`${A} refs/heads/main\n`).slice(0, 20)}`)), /runs past the ref advertisement's end/);
  assert.throws(() => parseAdvertisement(Buffer.from(`${pkt('# service=git-upload-pack\n')}0000${pkt('zz refs/heads/main\n')}0000`)), /a malformed line in the ref advertisement/);
});

const REFS = '/info/refs?service=git-upload-pack';

test('a redirect of the ref request names the repository it leads to, relative or absolute, without credentials in it', () => {
  assert.is(redirectedRepository(`https://git.example/old/ch.git${REFS}`, `/new/ch.git${REFS}`), 'https://git.example/new/ch.git');
  assert.is(redirectedRepository(`https://git.example/ch${REFS}`, `https://u:p@mirror.example/ch.git${REFS}`), 'https://mirror.example/ch.git');
  assert.is(redirectedRepository(`http://git.example/ch${REFS}`, `https://git.example/ch.git${REFS}`), 'https://git.example/ch.git');
});

test('a redirect from https to http, to another scheme, or to a page that is not the ref advertisement is refused', () => {
  assert.throws(() => redirectedRepository(`https://git.example/ch${REFS}`, `http://git.example/ch${REFS}`), /from https to http is refused/);
  assert.throws(() => redirectedRepository(`http://git.example/ch${REFS}`, `ftp://git.example/ch${REFS}`), /to a ftp: URL/);
  assert.throws(() => redirectedRepository(`https://git.example/ch${REFS}`, 'https://git.example/login'), /not a git repository's ref advertisement/);
});

test.run();
