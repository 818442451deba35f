import fs from 'node:fs';
import { readdir } from 'node:fs/promises';

/**
 * The file system isomorphic-git reads the channel clone through. isomorphic-git probes the fs it
 * is given on every call (by calling readFile() without arguments, which builds an error and its
 * stack) and, for every object, looks for a loose file before reading the packs. Our clone is
 * only ever written by fetch, which stores packs, so a loose-object lookup is answered from one
 * directory listing instead of a failing open(), and the pack listing and the gitdir's stat,
 * asked for again on every object read, are kept until the next write. Walking a long chain
 * costs less than half of what it does through plain fs.
 */
export interface ChannelFs {
  readonly fs: { promises: typeof fs.promises };
  /** Call after anything wrote to the clone (a fetch, a reset). */
  invalidate(): void;
}

const LOOSE_OBJECT = /\/objects\/([0-9a-f]{2})\/[0-9a-f]{38}$/;
const PROBE = Promise.reject(new Error('probe'));
PROBE.catch(() => undefined);

const PACK_FILE = /\/objects\/pack\/pack-[0-9a-f]+\.pack$/;

/**
 * Thrown into isomorphic-git once `storePack` has written a downloaded pack and its index: what
 * isomorphic-git had left to do after writing the pack was only its own, slower indexing of it
 * (its fetch has already moved the remote-tracking ref). The fetch's caller takes it as success.
 */
export class PackStored extends Error {
  constructor(readonly path: string) {
    super(`pack stored at ${path}`);
    this.name = 'PackStored';
  }
}

/**
 * `storePack` sees every pack isomorphic-git writes, instead of it: the only moment a downloaded
 * object can be refused before anything inflates it whole, and where the pack is checked and
 * indexed in one pass. The write then fails with PackStored.
 */
export function channelFs(gitdir: string, opts: { storePack?: (path: string, pack: Uint8Array) => Promise<void> } = {}): ChannelFs {
  let looseDirs: Promise<Set<string>> | null = null;
  const loadLooseDirs = (): Promise<Set<string>> =>
    (looseDirs ??= readdir(`${gitdir}/objects`).then(
      (names) => new Set(names.filter((n) => /^[0-9a-f]{2}$/.test(n))),
      () => new Set<string>(),
    ));

  let packs: Promise<string[]> | null = null;
  let gitdirStat: ReturnType<typeof fs.promises.stat> | null = null;
  const packDir = `${gitdir}/objects/pack`;

  const promises = Object.create(fs.promises) as typeof fs.promises;
  const plainReaddir = fs.promises.readdir.bind(fs.promises);
  promises.readdir = ((path: string, options?: undefined) =>
    path === packDir && options === undefined ? (packs ??= plainReaddir(path)) : plainReaddir(path, options)) as unknown as typeof fs.promises.readdir;
  const plainStat = fs.promises.stat.bind(fs.promises);
  promises.stat = ((path: string, options?: undefined) =>
    path === gitdir && options === undefined ? (gitdirStat ??= plainStat(path)) : plainStat(path, options)) as typeof fs.promises.stat;
  const readFile = fs.promises.readFile.bind(fs.promises);
  promises.readFile = (async (path: unknown, options?: unknown) => {
    if (path === undefined) return PROBE;
    const loose = typeof path === 'string' ? LOOSE_OBJECT.exec(path) : null;
    if (loose && !(await loadLooseDirs()).has(loose[1]!)) {
      throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    }
    return readFile(path as string, options as undefined);
  }) as typeof fs.promises.readFile;

  const writeFile = fs.promises.writeFile.bind(fs.promises);
  // isomorphic-git writes again after any failed write (it assumes a missing directory): one store per pack.
  const stored = new WeakMap<Uint8Array, Promise<void>>();
  promises.writeFile = (async (path: unknown, data: unknown, options?: unknown) => {
    if (opts.storePack && typeof path === 'string' && PACK_FILE.test(path) && data instanceof Uint8Array) {
      if (!stored.has(data)) stored.set(data, opts.storePack(path, data));
      await stored.get(data);
      throw new PackStored(path);
    }
    return writeFile(path as string, data as Uint8Array, options as undefined);
  }) as typeof fs.promises.writeFile;

  return {
    fs: { promises },
    invalidate: () => {
      looseDirs = null;
      packs = null;
      gitdirStat = null;
    },
  };
}
