// The node's upload-pack exchange (issue 13), as bytes: the request it sends, and how it reads an
// answer — acknowledgements, side-band packets split anywhere across chunks, a server's error,
// an answer that ends early or is not git's.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { askedCapabilities, readPackAnswer, uploadPackRequest } from '../../agent/src/adapters/upload-pack.js';
import { toDuckError } from '../../schemas/errors.js';

const URL = 'http://git.example/channel.git';
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const pkt = (data: Buffer | string): Buffer => {
  const bytes = Buffer.from(data);
  return Buffer.concat([Buffer.from((bytes.length + 4).toString(16).padStart(4, '0')), bytes]);
};
const band = (n: number, data: Buffer | string): Buffer => pkt(Buffer.concat([Buffer.from([n]), Buffer.from(data)]));
const FLUSH = Buffer.from('0000');

/** The answer delivered in chunks of `size` bytes, as a socket may split it. */
async function* chunked(answer: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < answer.length; at += size) yield answer.subarray(at, at + size);
}

async function failureOf(answer: Buffer): Promise<string> {
  return readPackAnswer(chunked(answer, 7), URL).then(
    () => 'no error',
    (err: unknown) => `${toDuckError(err).code}: ${(err as Error).message}`,
  );
}

test('the request wants the tip with side-band-64k, ofs-delta and the agent, then names the haves and says done', () => {
  const body = uploadPackRequest({ want: A, haves: [B], capabilities: new Set(['multi_ack', 'thin-pack', 'side-band-64k', 'ofs-delta', 'agent=git/2']), agent: 'duck/1.0.0' }, URL);
  assert.is(body.toString('latin1'), `005bwant ${A} side-band-64k ofs-delta agent=duck/1.0.0\n00000032have ${B}\n0009done\n`);
});

test('no thin pack and no multi_ack are asked for, and ofs-delta only when offered', () => {
  assert.equal(askedCapabilities(new Set(['side-band-64k', 'thin-pack', 'multi_ack_detailed']), 'duck/1', URL), ['side-band-64k', 'agent=duck/1']);
});

test('a server without side-band-64k is refused, saying why', () => {
  assert.throws(() => askedCapabilities(new Set(['side-band', 'ofs-delta']), 'duck/1', URL), /does not offer side-band-64k/);
});

test('the pack is what band 1 carries, whatever the chunking; acknowledgements and progress are dropped', async () => {
  const pack = Buffer.from('PACK and its bytes, in three packets');
  const answer = Buffer.concat([pkt(`ACK ${B}\n`), pkt('NAK\n'), band(2, 'Counting objects: 3\r'), band(1, pack.subarray(0, 5)), band(2, 'done\n'), band(1, pack.subarray(5, 20)), band(1, pack.subarray(20)), FLUSH]);
  for (const size of [1, 3, 4, 5, 64, answer.length]) assert.equal(await readPackAnswer(chunked(answer, size), URL), pack, `chunks of ${size}`);
});

test("a side-band error fails the fetch with fetch, quoting the server's message on one line", async () => {
  const answer = Buffer.concat([pkt('NAK\n'), band(1, 'PACK'), band(3, 'upload-pack: not our ref\n\x1b[31mbye\n'), FLUSH]);
  assert.is(await failureOf(answer), `fetch: ${URL}: the git server stopped the fetch: upload-pack: not our ref [31mbye`);
});

test('an ERR line fails the fetch with fetch, quoting it', async () => {
  assert.is(await failureOf(pkt('ERR access denied\n')), `fetch: ${URL}: the git server refused the fetch: access denied`);
});

test('an answer that ends inside a packet, or before its closing flush, is unreadable', async () => {
  const whole = Buffer.concat([pkt('NAK\n'), band(1, 'PACK1234'), FLUSH]);
  assert.match(await failureOf(whole.subarray(0, whole.length - 8)), /^fetch: .*unreadable: the upload-pack answer ends inside a packet/);
  assert.match(await failureOf(whole.subarray(0, whole.length - 4)), /^fetch: .*unreadable: it ends before the pack does \(no closing flush\)/);
  assert.match(await failureOf(pkt('NAK\n')), /^fetch: .*unreadable: it holds no pack/);
});

test('an answer that is not packet lines, or a line that is neither an acknowledgement nor a band, is unreadable', async () => {
  assert.match(await failureOf(Buffer.from('<html><body>Sign in</body></html>')), /^fetch: .*unreadable: a malformed packet length "<htm" at byte 0/);
  assert.match(await failureOf(Buffer.concat([pkt('NAK\n'), pkt('hello\n'), FLUSH])), /^fetch: .*unreadable: a line it holds is neither an acknowledgement nor a side-band packet: "hello\\n"/);
  assert.match(await failureOf(Buffer.concat([pkt('NAK\n'), band(1, 'PACK'), FLUSH, band(1, 'more')])), /unreadable: it goes on after its closing flush/);
});

test.run();
