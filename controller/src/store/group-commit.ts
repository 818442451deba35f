// Group commit: every caller that asks for a write while one is being prepared or running shares
// the next single write, and each caller's promise settles with the write that holds its change.
// BatchQueue hands the write the callers' items (the PostgreSQL store's reports, one transaction
// for all); GroupCommit is the same with nothing to hand over, for the lowdb store, whose
// mutations are applied in memory first, so the write always carries all of them.

/** One item's answer from a batch: a batch may refuse one item and keep the others. */
export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

interface Waiter<T, R> {
  item: T;
  resolve: (value: R) => void;
  reject: (err: unknown) => void;
}

export class BatchQueue<T, R> {
  private running = false;
  private waiting: Waiter<T, R>[] = [];
  private idlers: (() => void)[] = [];

  /** `flush` answers each item in order; when it throws, every item of the batch fails with that error. */
  constructor(private readonly flush: (items: T[]) => Promise<Settled<R>[]>) {}

  /** Resolves with this item's answer from a write that started after this call. */
  submit(item: T): Promise<R> {
    const done = new Promise<R>((resolve, reject) => this.waiting.push({ item, resolve, reject }));
    // setImmediate: requests whose bodies finished in the same turn of the event loop join one batch.
    if (!this.running) {
      this.running = true;
      setImmediate(() => void this.drain());
    }
    return done;
  }

  /** Settles when nothing is waiting or being written. */
  idle(): Promise<void> {
    if (!this.running && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idlers.push(resolve));
  }

  private async drain(): Promise<void> {
    // Bounded by the callers: each round takes every waiter present; new ones start the next round.
    while (this.waiting.length > 0) {
      const batch = this.waiting;
      this.waiting = [];
      try {
        const answers = await this.flush(batch.map((w) => w.item));
        batch.forEach((w, i) => {
          const answer = answers[i];
          if (answer?.ok) w.resolve(answer.value);
          else w.reject(answer ? answer.error : new Error('the batch gave no answer for this item'));
        });
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    this.running = false;
    for (const resolve of this.idlers.splice(0)) resolve();
  }
}

export class GroupCommit {
  private readonly queue: BatchQueue<void, void>;

  constructor(write: () => Promise<void>) {
    this.queue = new BatchQueue<void, void>(async (items) => {
      await write();
      return items.map(() => ({ ok: true, value: undefined }));
    });
  }

  /** Resolves after a write that started after this call (so it holds every change made before it). */
  commit(): Promise<void> {
    return this.queue.submit(undefined);
  }

  /** Settles when nothing is waiting or being written. */
  idle(): Promise<void> {
    return this.queue.idle();
  }
}
