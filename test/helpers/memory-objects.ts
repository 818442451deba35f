// A git repository held in memory for unit tests of the channel code: objects written with their
// real ids, and a GitObjects port that counts every read by kind.
import { createHash } from 'node:crypto';
import type { GitObjects } from '../../agent/src/ports.js';
import { DuckError } from '../../schemas/errors.js';

/** A repository in memory: objects by id, and how many times each kind was read. */
export class MemoryObjects {
  readonly objects = new Map<string, { type: string; body: Buffer }>();
  readonly reads = { commit: 0, tree: 0, blob: 0, size: 0 };
  readonly port: GitObjects = {
    has: async (oid) => this.objects.has(oid),
    readCommitRaw: async (oid) => (this.reads.commit++, this.get(oid).body),
    readTreeRaw: async (oid) => (this.reads.tree++, this.get(oid).body),
    readBlob: async (oid) => (this.reads.blob++, this.get(oid).body),
    sizeOf: async (oid) => (this.reads.size++, { type: this.get(oid).type, size: this.get(oid).body.length }),
  };

  write(type: string, body: Buffer): string {
    const oid = createHash('sha1').update(`${type} ${body.length}\0`).update(body).digest('hex');
    this.objects.set(oid, { type, body });
    return oid;
  }

  /** Entries written as given (names unchecked, order kept): a tree a publisher's git would never write, too. */
  tree(entries: Array<[mode: string, name: string, oid: string]>): string {
    return this.write('tree', Buffer.concat(entries.map(([mode, name, oid]) => Buffer.concat([Buffer.from(`${mode} ${name}\0`), Buffer.from(oid, 'hex')]))));
  }

  /** The root tree of a map of path → content, in git's entry order. */
  files(files: Record<string, string>): string {
    const root: Dir = new Map();
    for (const [path, content] of Object.entries(files)) {
      const segments = path.split('/');
      const name = segments.pop()!;
      let dir = root;
      for (const s of segments) dir = (dir.get(s) as Dir | undefined) ?? (dir.set(s, new Map()).get(s) as Dir);
      dir.set(name, content);
    }
    const write = (dir: Dir): string => {
      const key = ([name, child]: [string, Dir | string]): string => (typeof child === 'string' ? name : `${name}/`);
      const sorted = [...dir].sort((a, b) => Buffer.compare(Buffer.from(key(a)), Buffer.from(key(b))));
      return this.tree(sorted.map(([name, child]) => (typeof child === 'string' ? ['100644', name, this.write('blob', Buffer.from(child))] : ['40000', name, write(child)])));
    };
    return write(root);
  }

  private get(oid: string): { type: string; body: Buffer } {
    const object = this.objects.get(oid);
    if (!object) throw new DuckError('internal', `no object ${oid}`);
    return object;
  }
}
type Dir = Map<string, Dir | string>;
