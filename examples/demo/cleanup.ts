/**
 * What the demo started, undone in reverse order on every way out: the last stage, a failure,
 * Ctrl-C or SIGTERM. Runs once (a second call gets the same promise), and one stuck task cannot
 * keep the others from running: each is bounded.
 */
export interface CleanupTask {
  readonly what: string;
  readonly run: () => Promise<void>;
  /** How long this task may take before the next one starts anyway. */
  readonly timeoutMs: number;
}

export class Cleanup {
  private readonly tasks: CleanupTask[] = [];
  private running: Promise<string[]> | null = null;

  /** Registers an undo step; the last registered runs first. */
  add(what: string, run: () => Promise<void>, timeoutMs = 30_000): void {
    this.tasks.push({ what, run, timeoutMs });
  }

  /** Runs every task, newest first; resolves with the problems met (empty when all went well). */
  run(say: (line: string) => void): Promise<string[]> {
    this.running ??= this.runAll(say);
    return this.running;
  }

  private async runAll(say: (line: string) => void): Promise<string[]> {
    const problems: string[] = [];
    for (const task of this.tasks.splice(0).reverse()) {
      say(`  cleanup: ${task.what}`);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`still running after ${task.timeoutMs} ms`)), task.timeoutMs);
      });
      try {
        await Promise.race([task.run(), timeout]);
      } catch (err) {
        problems.push(`${task.what}: ${(err as Error).message}`);
        say(`  cleanup: ${task.what} failed: ${(err as Error).message}`);
      } finally {
        clearTimeout(timer);
      }
    }
    return problems;
  }
}
