import { DuckError } from '../../../schemas/errors.js';

/**
 * A raw git commit split the way git splits it for signing: the signature header removed,
 * every other byte kept. Works on bytes, never on decoded text, so CRLF, trailing spaces and
 * non-UTF-8 messages are signed and verified exactly as git wrote them.
 */
export interface CommitObject {
  /** The exact bytes the signer signed: the commit with its gpgsig header (and continuations) removed. */
  readonly signedPayload: Uint8Array;
  /** The armored signature, continuation prefixes removed, or null when the commit is unsigned. */
  readonly armoredSignature: string | null;
  readonly tree: string;
  readonly parents: readonly string[];
  /** Committer time in epoch seconds. */
  readonly committedAt: number;
  readonly message: string;
}

const LF = 0x0a;
const SPACE = 0x20;
const decoder = new TextDecoder('utf-8', { fatal: false });

// git only emits these two signature headers; a SHA-256 repository signs with gpgsig-sha256.
const SIGNATURE_HEADERS = new Set(['gpgsig', 'gpgsig-sha256']);

export function parseCommitObject(raw: Uint8Array, oid: string): CommitObject {
  const lines = splitHeaderLines(raw, oid);
  const kept: Uint8Array[] = [];
  let signatureLines: string[] | null = null;
  let inSignature = false;
  let tree: string | null = null;
  const parents: string[] = [];
  let committedAt: number | null = null;

  for (const line of lines.header) {
    if (line[0] === SPACE) {
      // A continuation belongs to the header above it: part of the signature, or kept.
      if (inSignature) signatureLines!.push(decoder.decode(line.subarray(1, line.length - 1)));
      else kept.push(line);
      continue;
    }
    const text = decoder.decode(line.subarray(0, line.length - 1));
    const space = text.indexOf(' ');
    const key = space < 0 ? text : text.slice(0, space);
    const value = space < 0 ? '' : text.slice(space + 1);
    inSignature = SIGNATURE_HEADERS.has(key);
    if (inSignature) {
      if (signatureLines !== null) malformed(oid, 'more than one signature header');
      if (key === 'gpgsig-sha256') malformed(oid, 'SHA-256 object signatures are not supported');
      signatureLines = [value];
      continue;
    }
    kept.push(line);
    if (key === 'tree') {
      if (tree !== null || parents.length > 0) malformed(oid, 'tree header out of place');
      tree = value;
    } else if (key === 'parent') parents.push(value);
    else if (key === 'committer') committedAt = parseIdentTime(value, oid);
  }
  if (tree === null || !/^[0-9a-f]{40}$/.test(tree)) malformed(oid, 'missing tree');
  if (parents.some((p) => !/^[0-9a-f]{40}$/.test(p))) malformed(oid, 'bad parent');
  if (committedAt === null) malformed(oid, 'missing committer');

  kept.push(lines.rest);
  return {
    signedPayload: concat(kept),
    armoredSignature: signatureLines === null ? null : signatureLines.join('\n') + '\n',
    tree,
    parents,
    committedAt,
    message: decoder.decode(lines.rest.subarray(1)),
  };
}

/** Header lines each keep their LF; `rest` is the blank separator line plus the message. */
function splitHeaderLines(raw: Uint8Array, oid: string): { header: Uint8Array[]; rest: Uint8Array } {
  const header: Uint8Array[] = [];
  let start = 0;
  while (start < raw.length) {
    if (raw[start] === LF) return { header, rest: raw.subarray(start) };
    const end = raw.indexOf(LF, start);
    if (end < 0) break;
    header.push(raw.subarray(start, end + 1));
    start = end + 1;
  }
  // A commit without a message still ends its headers with an empty line; anything else is broken.
  return malformed(oid, 'headers do not end with an empty line');
}

function parseIdentTime(ident: string, oid: string): number {
  const match = /> (\d+) [+-]\d{4}$/.exec(ident);
  if (!match) malformed(oid, 'committer line has no timestamp');
  return Number(match[1]);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function malformed(oid: string, why: string): never {
  throw new DuckError('bad-signature', `commit ${oid.slice(0, 12)} is malformed: ${why}`, { commit: oid });
}
