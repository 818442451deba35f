// The suite's cases, each a record: a channel history the client first accepts, what is published
// after it, how the server behaves and where the clock stands, then what the client must answer.
// A new rule is a new record here; the runner (runner.ts) needs no change for one.
import type { HostileMode } from './server/hostile-git-server.js';
import type { Edit, KeyName } from './channel/content.js';

/**
 * How a step's commit is signed: by a key, not at all, with the signature the labelled commit
 * carries, or by a key wrongly on purpose (an SSH signature in another namespace than `git`, or
 * the commit's message changed once signed).
 */
export type Sign =
  | KeyName
  | 'unsigned'
  | { readonly signatureOf: string }
  | { readonly key: KeyName; readonly namespace?: string; readonly changedAfterSigning?: boolean };

/** One step of a channel's history; `as` labels a commit for later steps and expectations. */
export type Step =
  | { readonly as: string; readonly edits?: readonly Edit[]; readonly sign: Sign }
  | { readonly as: string; readonly revert: string; readonly sign: KeyName }
  /** An approval (DESIGN §3, the two-person rule): an empty commit whose message is `approve <id>`. */
  | { readonly as: string; readonly approve: string; readonly sign: KeyName }
  | { readonly resetTo: string };

/** How the server answers this case's repository (DESIGN §3: every fetch is bounded and checked). */
export interface ServerBehaviour {
  readonly mode?: HostileMode;
  /** A mirror serving another history in the channel's place, built from these steps. */
  readonly rewrittenHistory?: readonly Step[];
  /** Published once the client has asked for the refs, before its download is answered. */
  readonly moveTipBeforePack?: readonly Step[];
}

export interface ConformanceCase {
  /** Unique, kebab-case: what the runner prints and `--only` matches. */
  readonly name: string;
  /** The typed reason (or `accept`) the case is about: the README's table groups cases by it. */
  readonly covers: string;
  /** Published, then verified: the client must accept its last commit. Empty: a first run. */
  readonly accepted: readonly Step[];
  /** Published after that, before the verify the case checks. */
  readonly then: readonly Step[];
  readonly server?: ServerBehaviour;
  /** The clock of the checked verify, in hours from the real time (the accepted steps run at 0). */
  readonly clockHours?: number;
  readonly expect: {
    readonly exit: 0 | 1 | 3;
    /** The typed reason of a refusal or a failure. */
    readonly reason?: string;
    /** The label of the commit accepted; a list when either is right. */
    readonly commit?: string | readonly string[];
    /** A warning the accept must carry (`stale`). */
    readonly warning?: string;
  };
}

// The channel every case starts from: the bot key vouched for by the trusted root, shop 1.0.0.
const BASE: Step = {
  as: 'base',
  sign: 'root',
  edits: [{ channelYaml: { version: 1, signers: ['bot'] } }, { release: { app: 'shop', version: '1.0.0' } }, { group: { shop: '1.0.0' } }],
};
/** BASE with channel.yaml `freshness: 1h`: stale once the clock is an hour past the commit. */
const FRESH_BASE: Step = {
  as: 'base',
  sign: 'root',
  edits: [{ channelYaml: { version: 1, signers: ['bot'], freshness: '1h' } }, { release: { app: 'shop', version: '1.0.0' } }, { group: { shop: '1.0.0' } }],
};
const NEXT_EDITS: readonly Edit[] = [{ release: { app: 'shop', version: '1.1.0' } }, { group: { shop: '1.1.0' } }];
const NEXT: Step = { as: 'next', sign: 'bot', edits: NEXT_EDITS };
/** A release the client should refuse, signed by a trusted key, with `release` changed. */
const releaseWith = (release: Extract<Edit, { release: unknown }>['release'], more: readonly Edit[] = []): Step => ({
  as: 'bad',
  sign: 'bot',
  edits: [{ release }, { group: { [release.app]: release.version } }, ...more],
});
/** channel.yaml with a two-person rule: production needs 2 of alice and bob; carol signs, outside the rule. */
const TWO_PERSON_BASE: Step = {
  as: 'base',
  sign: 'root',
  edits: [
    { channelYaml: { version: 1, signers: ['alice', 'bob', 'carol'], thresholds: [{ paths: ['groups/production.yaml'], count: 2, signers: ['alice', 'bob'] }] } },
    { release: { app: 'shop', version: '1.0.0' } },
    { release: { app: 'shop', version: '1.1.0' } },
    { group: { shop: '1.0.0' } },
  ],
};
/** Production moved to the published shop 1.1.0, signed by alice alone. */
const PROMOTE_BY_ALICE: Step = { as: 'change', sign: 'alice', edits: [{ group: { shop: '1.1.0' } }] };
/** channel.yaml with `bot` (full scope) and `promoter` (scope: promote), shop's floor at 1.1.0. */
const SCOPED_POLICY = { version: 1, signers: ['bot', { name: 'promoter', scope: 'promote' }], floor: { shop: '1.1.0' } } as const;
const SCOPED_BASE: Step = {
  as: 'base',
  sign: 'root',
  edits: [
    { channelYaml: SCOPED_POLICY },
    ...['1.0.0', '1.1.0', '1.2.0'].map((version): Edit => ({ release: { app: 'shop', version } })),
    { group: { shop: '1.1.0' } },
  ],
};
/** The promote key sets production's apps (after `more`, e.g. new content it may not add). */
const promotion = (apps: Readonly<Record<string, string>>, more: readonly Edit[] = []): Step => ({ as: 'promoted', sign: 'promoter', edits: [...more, { group: apps }] });
/** channel.yaml listing `bot`, `ssh-dev` by its key file (keys/ssh-dev.pub) and `ssh-ops` inline (`ssh:`). */
const SSH_BASE: Step = {
  as: 'base',
  sign: 'root',
  edits: [{ channelYaml: { version: 1, signers: ['bot', 'ssh-dev', { name: 'ssh-ops', inline: true }] } }, { release: { app: 'shop', version: '1.0.0' } }, { group: { shop: '1.0.0' } }],
};
const refused = (reason: string) => ({ exit: 3, reason }) as const;
const unreachable = { exit: 1, reason: 'fetch' } as const;

/** Larger than any client should read by default (Duck's limit is 16 MiB a file). */
export const OVERSIZED_FILE_BYTES = 24 * 1024 * 1024;

export const CASES: readonly ConformanceCase[] = [
  // Happy paths.
  { name: 'accept-first', covers: 'accept', accepted: [], then: [BASE], expect: { exit: 0, commit: 'base' } },
  { name: 'accept-advance', covers: 'accept', accepted: [BASE], then: [NEXT], expect: { exit: 0, commit: 'next' } },
  {
    name: 'accept-revert-moves-forward',
    covers: 'accept',
    accepted: [BASE, NEXT],
    then: [{ as: 'reverted', revert: 'next', sign: 'bot' }],
    expect: { exit: 0, commit: 'reverted' },
  },
  { name: 'accept-huge-advertisement', covers: 'accept', accepted: [BASE], then: [NEXT], server: { mode: 'huge-refs' }, expect: { exit: 0, commit: 'next' } },
  {
    name: 'accept-tip-moves-during-fetch',
    covers: 'accept',
    accepted: [BASE],
    then: [NEXT],
    server: { moveTipBeforePack: [{ as: 'moved', sign: 'bot', edits: [{ release: { app: 'shop', version: '1.2.0' } }, { group: { shop: '1.2.0' } }] }] },
    expect: { exit: 0, commit: ['next', 'moved'] },
  },
  { name: 'stale-warns-and-accepts', covers: 'stale', accepted: [FRESH_BASE], then: [], clockHours: 3, expect: { exit: 0, commit: 'base', warning: 'stale' } },

  // Signatures and trust (DESIGN §3).
  { name: 'unsigned-tip', covers: 'unsigned', accepted: [BASE], then: [{ ...NEXT, sign: 'unsigned' }], expect: refused('unsigned') },
  { name: 'untrusted-signer', covers: 'untrusted-signer', accepted: [BASE], then: [{ ...NEXT, sign: 'stranger' }], expect: refused('untrusted-signer') },
  {
    name: 'untrusted-signer-vouches-for-itself',
    covers: 'untrusted-signer',
    accepted: [BASE],
    then: [{ as: 'intruder', sign: 'stranger', edits: [{ channelYaml: { version: 2, signers: ['bot', 'stranger'] } }] }],
    expect: refused('untrusted-signer'),
  },
  // A first run: the tip lists `bot` and is signed by it, but no commit the root key signed vouches for it.
  { name: 'untrusted-signer-first-run', covers: 'untrusted-signer', accepted: [], then: [{ ...BASE, sign: 'bot' }], expect: refused('untrusted-signer') },
  { name: 'bad-signature-moved', covers: 'bad-signature', accepted: [BASE], then: [{ ...NEXT, sign: { signatureOf: 'base' } }], expect: refused('bad-signature') },
  {
    name: 'trust-rollback-same-version',
    covers: 'trust-rollback',
    accepted: [BASE],
    then: [{ as: 'same', sign: 'bot', edits: [{ channelYaml: { version: 1, signers: ['bot', 'stranger'] } }] }],
    expect: refused('trust-rollback'),
  },
  { name: 'history-rewritten-force-push', covers: 'history-rewritten', accepted: [BASE, NEXT], then: [{ resetTo: 'base' }], expect: refused('history-rewritten') },
  {
    name: 'history-rewritten-by-mirror',
    covers: 'history-rewritten',
    accepted: [BASE, NEXT],
    then: [],
    server: { rewrittenHistory: [{ ...BASE, as: 'other-root' }, { ...NEXT, as: 'other-next', edits: [{ release: { app: 'shop', version: '9.0.0' } }, { group: { shop: '9.0.0' } }] }] },
    expect: refused('history-rewritten'),
  },

  // The content of a signed commit (DESIGN §2).
  { name: 'invalid-group', covers: 'invalid', accepted: [BASE], then: [{ as: 'bad', sign: 'bot', edits: [{ write: { path: 'groups/production.yaml', content: 'apps: 5\n' } }] }], expect: refused('invalid') },
  { name: 'unsafe-path-symlink', covers: 'unsafe-path', accepted: [BASE], then: [releaseWith({ app: 'shop', version: '1.1.0' }, [{ symlink: { path: 'releases/shop/1.1.0/passwd', target: '/etc/passwd' } }])], expect: refused('unsafe-path') },
  { name: 'too-large-file', covers: 'too-large', accepted: [BASE], then: [releaseWith({ app: 'shop', version: '1.1.0', bigFileBytes: OVERSIZED_FILE_BYTES })], expect: refused('too-large') },
  { name: 'digest-mismatch', covers: 'digest-mismatch', accepted: [BASE], then: [releaseWith({ app: 'shop', version: '1.1.0', corrupt: 'digest' })], expect: refused('digest-mismatch') },

  // The clock (the runner's fake clock: a day behind the time the client already saw).
  { name: 'clock-regressed', covers: 'clock-regressed', accepted: [BASE], then: [NEXT], clockHours: -24, expect: refused('clock-regressed') },

  // A hostile or broken server: nothing is accepted, and the last accepted commit stays.
  { name: 'fetch-silent-refs', covers: 'fetch', accepted: [BASE], then: [NEXT], server: { mode: 'silent-refs' }, expect: unreachable },
  { name: 'fetch-trickled-pack', covers: 'fetch', accepted: [BASE], then: [NEXT], server: { mode: 'trickle-pack' }, expect: unreachable },
  { name: 'fetch-truncated-pack', covers: 'fetch', accepted: [BASE], then: [NEXT], server: { mode: 'half-pack' }, expect: unreachable },
  { name: 'fetch-error-side-band', covers: 'fetch', accepted: [BASE], then: [NEXT], server: { mode: 'error-pack' }, expect: unreachable },
  { name: 'fetch-login-page', covers: 'fetch', accepted: [BASE], then: [NEXT], server: { mode: 'login-pack' }, expect: unreachable },

  // The two-person rule (DESIGN §3, channel.yaml `thresholds`): production needs 2 of alice, bob.
  { name: 'threshold-unmet-one-signer', covers: 'threshold-unmet', accepted: [TWO_PERSON_BASE], then: [PROMOTE_BY_ALICE], expect: refused('threshold-unmet') },
  {
    name: 'threshold-met-by-approval',
    covers: 'threshold-unmet',
    accepted: [TWO_PERSON_BASE],
    then: [PROMOTE_BY_ALICE, { as: 'approval', approve: 'change', sign: 'bob' }],
    expect: { exit: 0, commit: 'approval' },
  },
  {
    name: 'threshold-unmet-self-approval',
    covers: 'threshold-unmet',
    accepted: [TWO_PERSON_BASE],
    then: [PROMOTE_BY_ALICE, { as: 'approval', approve: 'change', sign: 'alice' }],
    expect: refused('threshold-unmet'),
  },
  // carol is a channel signer (her own commit would be accepted) but not one of the rule's.
  {
    name: 'threshold-unmet-approval-outside-rule',
    covers: 'threshold-unmet',
    accepted: [TWO_PERSON_BASE],
    then: [PROMOTE_BY_ALICE, { as: 'approval', approve: 'change', sign: 'carol' }],
    expect: refused('threshold-unmet'),
  },

  // Promotion-only keys (DESIGN §3, `scope: promote`, `promotion.floor`): production on shop 1.1.0.
  { name: 'promote-key-moves-to-published', covers: 'out-of-scope', accepted: [SCOPED_BASE], then: [promotion({ shop: '1.2.0' })], expect: { exit: 0, commit: 'promoted' } },
  {
    name: 'out-of-scope-new-release',
    covers: 'out-of-scope',
    accepted: [SCOPED_BASE],
    then: [promotion({ shop: '1.3.0' }, [{ release: { app: 'shop', version: '1.3.0' } }])],
    expect: refused('out-of-scope'),
  },
  { name: 'out-of-scope-below-floor', covers: 'out-of-scope', accepted: [SCOPED_BASE], then: [promotion({ shop: '1.0.0' })], expect: refused('out-of-scope') },
  {
    name: 'out-of-scope-policy-change',
    covers: 'out-of-scope',
    accepted: [SCOPED_BASE],
    then: [{ as: 'grab', sign: 'promoter', edits: [{ channelYaml: { ...SCOPED_POLICY, version: 2, signers: ['bot', 'promoter'] } }] }],
    expect: refused('out-of-scope'),
  },

  // SSH-signed commits (DESIGN §3, git's gpg.format=ssh): ssh-dev is an Ed25519 key, ssh-ops ECDSA P-256.
  { name: 'ssh-accept-key-file-signer', covers: 'accept', accepted: [SSH_BASE], then: [{ ...NEXT, sign: 'ssh-dev' }], expect: { exit: 0, commit: 'next' } },
  { name: 'ssh-accept-inline-signer', covers: 'accept', accepted: [SSH_BASE], then: [{ ...NEXT, sign: 'ssh-ops' }], expect: { exit: 0, commit: 'next' } },
  { name: 'ssh-untrusted-signer', covers: 'untrusted-signer', accepted: [SSH_BASE], then: [{ ...NEXT, sign: 'ssh-stranger' }], expect: refused('untrusted-signer') },
  // A listed key's signature over the very payload, but for files (`ssh-keygen -Y sign -n file`), not commits.
  { name: 'ssh-bad-signature-namespace', covers: 'bad-signature', accepted: [SSH_BASE], then: [{ ...NEXT, sign: { key: 'ssh-dev', namespace: 'file' } }], expect: refused('bad-signature') },
  { name: 'ssh-bad-signature-changed-commit', covers: 'bad-signature', accepted: [SSH_BASE], then: [{ ...NEXT, sign: { key: 'ssh-dev', changedAfterSigning: true } }], expect: refused('bad-signature') },
];
