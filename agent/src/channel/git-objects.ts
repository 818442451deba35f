/** Read-only access to the objects of the local channel clone, by object id. */
export interface TreeEntry {
  readonly mode: string;
  readonly path: string;
  readonly oid: string;
  readonly type: 'blob' | 'tree' | 'commit';
}

export interface GitObjects {
  has(oid: string): Promise<boolean>;
  readCommitRaw(oid: string): Promise<Uint8Array>;
  readTree(oid: string): Promise<readonly TreeEntry[]>;
  readBlob(oid: string): Promise<Uint8Array>;
}

/** Fetching the channel: one ref request when nothing moved, a pack download otherwise. */
export interface ChannelTransport {
  /** The branch tip the server advertises: a single ref-advertisement request. */
  remoteTip(): Promise<string>;
  /** Downloads what the local clone lacks up to the tip; returns the fetched tip. */
  fetch(): Promise<string>;
  /** Forgets the local clone so the next fetch starts from nothing (a broken clone is never trusted). */
  reset(): Promise<void>;
  readonly objects: GitObjects;
}
