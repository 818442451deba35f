import { createInterface } from 'node:readline/promises';
import { DuckError } from '../core/errors.js';

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
