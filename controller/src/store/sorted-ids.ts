// The embedded store's listing index: its agents' ids in order, so a page of GET /api/v1/agents is a
// binary search and a slice instead of a sort of the whole fleet per request. Agents are only ever
// added (a released id keeps its record), so the index catches up from the count it has seen.
/** Past this many new ids since the last listing, one sort is cheaper than inserting each. */
const RESORT_AFTER = 64;

export class SortedIds {
  private ids: string[] = [];
  private seen = 0;

  /** `all` is the store's agents in insertion order; only the ones past those already seen are new. */
  sync(all: readonly { agentId: string }[]): void {
    if (all.length === this.seen) return;
    if (all.length - this.seen > RESORT_AFTER || all.length < this.seen) {
      this.ids = all.map((a) => a.agentId).sort(byCodeUnit);
    } else {
      for (let i = this.seen; i < all.length; i++) this.ids.splice(this.firstAfter(all[i]!.agentId), 0, all[i]!.agentId);
    }
    this.seen = all.length;
  }

  /** Up to `limit` ids strictly after `after` (from the first when null). */
  page(after: string | null, limit: number): string[] {
    const start = after === null ? 0 : this.firstAfter(after);
    return this.ids.slice(start, start + limit);
  }

  get size(): number {
    return this.ids.length;
  }

  /** The index of the first id greater than `id`. */
  private firstAfter(id: string): number {
    let lo = 0;
    let hi = this.ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ids[mid]! <= id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** Plain code-unit order: agent ids are ASCII (report.schema.json's agentId), where it is PostgreSQL's C collation too. */
const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
