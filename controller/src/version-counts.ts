// Agents counted per version, the order versions read in, and the version most agents are asked
// for: what the app rollouts (fleet-summary, rollout-progress) and the agent's own builds
// (agent-versions) count alike.

export interface VersionCount {
  version: string;
  agents: number;
}

/** Version order for display and ties: numeric parts compare as numbers ("1.10.0" after "1.9.0"). */
export const compareVersions = (a: string, b: string): number => a.localeCompare(b, 'en', { numeric: true });

export const bump = (counts: Map<string, number>, key: string): void => void counts.set(key, (counts.get(key) ?? 0) + 1);

/** The most wanted version; a tie goes to the higher version (a rollout moves forward). */
export function mostWanted(wanted: Map<string, number>): string | null {
  let best: string | null = null;
  let bestCount = 0;
  for (const [version, count] of wanted) {
    if (count > bestCount || (count === bestCount && best !== null && compareVersions(version, best) > 0)) {
      best = version;
      bestCount = count;
    }
  }
  return best;
}

/** Counts as a list in version order. */
export function versionCounts(counts: ReadonlyMap<string, number>): VersionCount[] {
  return [...counts].map(([version, agents]) => ({ version, agents })).sort((a, b) => compareVersions(a.version, b.version));
}
