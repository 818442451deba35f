import { DuckError } from '../../../schemas/errors.js';
import type { TreeEntry } from '../ports.js';

/**
 * A raw git tree object parsed entry by entry, each name checked as it is read: a tree a
 * publisher's git would never write (an entry named `..`, `.` or empty, or holding a `/` or `\`)
 * is refused as `unsafe-path`, naming the path, before anything uses it. `dir` is where the tree
 * sits in the commit ('' for the root), so the refusal names the whole path.
 */
export function parseTreeObject(raw: Uint8Array, oid: string, dir: string): TreeEntry[] {
  const entries: TreeEntry[] = [];
  let cursor = 0;
  while (cursor < raw.length) {
    const space = raw.indexOf(SPACE, cursor);
    const nul = space < 0 ? -1 : raw.indexOf(NUL, space + 1);
    if (nul < 0 || nul + 1 + OID_BYTES > raw.length) throw malformed(oid, dir);
    const mode = normaliseMode(decoder.decode(raw.subarray(cursor, space)));
    const name = decoder.decode(raw.subarray(space + 1, nul));
    const path = dir ? `${dir}/${name}` : name;
    assertSafeEntryName(name, path);
    const type = TYPE_OF_MODE[mode];
    if (!type) throw new DuckError('invalid', `${path}: tree ${oid.slice(0, 12)} has an entry of unknown mode ${mode}`, { file: path, tree: oid });
    entries.push({ mode, path: name, oid: hex(raw.subarray(nul + 1, nul + 1 + OID_BYTES)), type });
    cursor = nul + 1 + OID_BYTES;
  }
  return entries;
}

/** One name inside a tree: a single path segment that stays where it is. */
export function assertSafeEntryName(name: string, path: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\\')) {
    throw new DuckError('unsafe-path', `${path}: unsafe entry name "${name}" in a tree of the channel`, { file: path, path });
  }
}

const SPACE = 0x20;
const NUL = 0x00;
const OID_BYTES = 20;
const decoder = new TextDecoder('utf-8', { fatal: false });

// git writes a directory's mode as 40000; the rest of the channel code reads 040000.
const normaliseMode = (mode: string): string => (mode === '40000' ? '040000' : mode);

const TYPE_OF_MODE: Readonly<Record<string, TreeEntry['type']>> = {
  '040000': 'tree',
  '100644': 'blob',
  '100755': 'blob',
  '120000': 'blob',
  '160000': 'commit',
};

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function malformed(oid: string, dir: string): DuckError {
  return new DuckError('invalid', `${dir || '/'}: tree ${oid.slice(0, 12)} is malformed`, { file: dir, tree: oid });
}
