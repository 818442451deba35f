/**
 * How the demo speaks: a heading per stage, indented lines of what happened, the time the stage
 * took and where the dashboard is. In CI mode each stage also ends with one machine-readable line,
 *
 *   DEMO-STAGE {"stage":"install","ok":true,"ms":8123}
 *
 * which test/e2e/demo.test.ts reads; a failed stage prints `"ok":false` with its error and stops
 * the story.
 */
export const STAGE_LINE_PREFIX = 'DEMO-STAGE ';

export interface StageRecord {
  readonly stage: string;
  readonly ok: boolean;
  readonly ms: number;
  readonly error?: string;
}

export interface Dashboard {
  readonly url: string;
  readonly adminToken: string;
}

export class Narrator {
  private dashboard: Dashboard | null = null;
  private silent = false;
  private index = 0;
  readonly records: StageRecord[] = [];

  constructor(
    private readonly total: number,
    private readonly ci: boolean,
    private readonly write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  ) {}

  /** A line of the current stage. */
  say(line: string): void {
    this.out(`   ${line}`);
  }

  /** From now on only `note` prints: the demo is shutting down and stages are moot. */
  silence(): void {
    this.silent = true;
  }

  /** A line outside any stage (the opening, the cleanup). */
  note(line: string): void {
    this.write(line);
  }

  showDashboard(dashboard: Dashboard): void {
    this.dashboard = dashboard;
  }

  /**
   * Runs one stage: its heading, its body, then the outcome line. The body returns the one-line
   * summary of what happened. A failure is printed and rethrown.
   */
  async stage(stage: string, title: string, body: () => Promise<string>): Promise<void> {
    this.index += 1;
    this.out('');
    this.out(`── ${this.index}/${this.total} ${title}`);
    const started = performance.now();
    try {
      const summary = await body();
      const ms = Math.round(performance.now() - started);
      this.out(` ✔ ${summary} (${seconds(ms)})`);
      if (this.dashboard) this.out(`   dashboard: ${this.dashboard.url}  (admin token: ${this.dashboard.adminToken})`);
      this.record({ stage, ok: true, ms });
    } catch (err) {
      const ms = Math.round(performance.now() - started);
      const error = (err as Error).message;
      this.out(` ✘ ${stage} failed after ${seconds(ms)}: ${error}`);
      this.record({ stage, ok: false, ms, error });
      throw err;
    }
  }

  private record(record: StageRecord): void {
    this.records.push(record);
    if (this.ci) this.out(`${STAGE_LINE_PREFIX}${JSON.stringify(record)}`);
  }

  private out(line: string): void {
    if (!this.silent) this.write(line);
  }
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
