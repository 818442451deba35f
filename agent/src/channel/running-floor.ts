import { DuckError } from '../../../schemas/errors.js';

/**
 * A floor that survives a lost state (DESIGN §3): each stack the agent brings up carries the
 * accepted commit it came from as a container label, so a node whose state has no anchor (lost,
 * or new) still knows what it runs. A tip whose first-parent chain does not hold every such commit
 * would move the node back: refused as `history-rewritten`, as a rollback with an anchor is.
 */
export interface DeployedCommit {
  readonly app: string;
  readonly commit: string;
}

/** What the operator runs to accept a deliberate reset of the channel's history. */
export const ALLOW_RESET_COMMAND = 'duck verify --allow-reset';

/** The refusal when `chain` (the tip's first-parent chain, every commit id) misses a deployed commit; null when it holds them all. */
export function floorRefusal(tip: string, chain: ReadonlySet<string>, deployed: readonly DeployedCommit[]): DuckError | null {
  const missing = deployed.filter((d) => !chain.has(d.commit)).sort((a, b) => (a.app < b.app ? -1 : a.app > b.app ? 1 : 0));
  if (missing.length === 0) return null;
  const running = missing.map((d) => `${d.app} from ${d.commit.slice(0, 12)}`).join(', ');
  return new DuckError(
    'history-rewritten',
    `the state has no accepted commit (it was lost, or this node is new), and the channel tip ${tip.slice(0, 12)} does not descend from what this node runs (${running}): ` +
      `a rollback is refused (roll back with git revert); if the channel's history was reset on purpose, accept its tip once with \`${ALLOW_RESET_COMMAND}\``,
    { commit: tip, tip, deployed: missing },
  );
}
