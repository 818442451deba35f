// A value that is costly to compute and may be a little old: the fleet summary of 100,000 agents
// takes seconds to fold, and a dashboard that refreshes every few seconds must not pay that per
// request. Within `maxAgeMs` the last value is served as it is; past it, the last value is still
// served while one computation (never two at once) makes the next. With `maxAgeMs` 0 every call
// computes afresh, so a small fleet always reads what it just wrote.

export interface Timed<T> {
  readonly value: T;
  /** When the computation that made it started (ms, the clock given). */
  readonly at: number;
}

export class RefreshingValue<T> {
  private last: Timed<T> | null = null;
  private computing: Promise<Timed<T>> | null = null;

  constructor(
    private readonly compute: () => Promise<T>,
    private readonly maxAgeMs: number,
    private readonly now: () => number,
    /** Told when a computation that runs behind a served value fails; the next call tries again. */
    private readonly onBackgroundError: (err: unknown) => void = () => {},
  ) {}

  async get(): Promise<T> {
    if (this.maxAgeMs <= 0) return this.compute();
    const last = this.last;
    if (last !== null && this.now() - last.at < this.maxAgeMs) return last.value;
    const next = this.refresh();
    if (last === null) return (await next).value;
    next.catch(this.onBackgroundError);
    return last.value;
  }

  private refresh(): Promise<Timed<T>> {
    this.computing ??= (async () => {
      const at = this.now();
      try {
        const timed = { value: await this.compute(), at };
        this.last = timed;
        return timed;
      } finally {
        this.computing = null;
      }
    })();
    return this.computing;
  }
}
