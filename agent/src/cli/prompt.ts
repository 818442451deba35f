import { createInterface } from 'node:readline/promises';
import { DuckError } from '../../../schemas/errors.js';

/** Asks on a terminal; in a script without a terminal the caller must have passed a flag instead. */
export async function ask(question: string, flagHint: string): Promise<string> {
  if (!process.stdin.isTTY) throw new DuckError('usage', `no terminal to ask "${question.trim()}": pass ${flagHint}`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(question)).trim();
  } finally {
    rl.close();
  }
}

/**
 * A destructive act goes ahead only once the operator typed the app's name (or passed it with
 * --confirm in a script); anything else is a usage error that says nothing was done.
 */
export async function confirmAppName(app: string, opts: { given: string | undefined; question: string; nothingDone: string }): Promise<void> {
  const typed = opts.given ?? (await ask(opts.question, `--confirm ${app}`));
  if (typed !== app) throw new DuckError('usage', `confirmation "${typed}" is not "${app}": ${opts.nothingDone}`);
}
