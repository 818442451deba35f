// Group commit: every caller that asks for a write while one is being prepared or running shares
// the next single write, and each caller's promise settles with the write that holds its change.
// Mutations are applied in memory first, so the write always carries all of them.
export class GroupCommit {
  private running = false;
  private waiting: { resolve: () => void; reject: (err: unknown) => void }[] = [];

  constructor(private readonly write: () => Promise<void>) {}

  /** Resolves after a write that started after this call (so it holds every change made before it). */
  commit(): Promise<void> {
    const done = new Promise<void>((resolve, reject) => this.waiting.push({ resolve, reject }));
    // setImmediate: requests whose bodies finished in the same turn of the event loop join one batch.
    if (!this.running) {
      this.running = true;
      setImmediate(() => void this.drain());
    }
    return done;
  }

  /** Settles when nothing is waiting or being written. */
  async idle(): Promise<void> {
    if (this.running || this.waiting.length > 0) await this.commit();
  }

  private async drain(): Promise<void> {
    // Bounded by the callers: each round takes every waiter present; new ones start the next round.
    while (this.waiting.length > 0) {
      const batch = this.waiting;
      this.waiting = [];
      try {
        await this.write();
        for (const w of batch) w.resolve();
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    this.running = false;
  }
}
