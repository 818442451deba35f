import type { GitObjects } from '../ports.js';
import { DuckError } from '../../../schemas/errors.js';
import type { ObjectStore, RawObject } from './git-object-store.js';

/**
 * The GitObjects port over a repository's object store: what the channel code reads commits and
 * trees through, for the agent's bare clone and the publisher's working clone alike.
 */
export function gitObjectsOf(store: ObjectStore): GitObjects {
  const read = (oid: string, want: RawObject['type'], field: 'commit' | 'tree' | 'blob'): Uint8Array => {
    const object = store.read(oid);
    if (!object) throw new DuckError('internal', `object ${oid} is not in the clone`, { [field]: oid });
    if (object.type !== want) throw new DuckError('invalid', `object ${oid} is a ${object.type}, not a ${want}`, { [field]: oid });
    return object.content;
  };
  return {
    sizeOf: async (oid) => store.sizeOf(oid),
    has: async (oid) => store.has(oid),
    readCommitRaw: async (oid) => read(oid, 'commit', 'commit'),
    // Raw: the channel code parses trees itself, checking every entry's name.
    readTreeRaw: async (oid) => read(oid, 'tree', 'tree'),
    readBlob: async (oid) => read(oid, 'blob', 'blob'),
  };
}
