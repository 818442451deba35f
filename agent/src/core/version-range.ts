// The version ranges announcements target (DESIGN §4.10): space-separated comparators that must all
// hold, ">=1.2.0 <2.0.0". Hand-written over compareVersions rather than the semver package: release
// versions here are any "1.10"-like text the channel allows, not strict semver, and they must order
// exactly as upgrades and downgrades do.
import { compareVersions } from './plan.js';

type Operator = '>=' | '>' | '<=' | '<' | '=';

export interface Comparator {
  readonly op: Operator;
  readonly version: string;
}

const COMPARATOR = /^(>=|<=|>|<|=)?([0-9A-Za-z][0-9A-Za-z.+_-]{0,63})$/;

/** The comparators of a range, or why the text is not one. */
export function parseVersionRange(text: string): { comparators: Comparator[] } | { error: string } {
  if (text.trim() === '') return { error: 'is empty' };
  const comparators: Comparator[] = [];
  for (const part of text.trim().split(/ +/)) {
    const m = COMPARATOR.exec(part);
    if (!m) return { error: `"${part}" is not a comparator like >=1.2.0 (operators >=, >, <=, <, =)` };
    comparators.push({ op: (m[1] ?? '=') as Operator, version: m[2]! });
  }
  return { comparators };
}

/** Whether `version` is in the range; a range that does not parse holds for no version. */
export function satisfiesRange(version: string, range: string): boolean {
  const parsed = parseVersionRange(range);
  if ('error' in parsed) return false;
  return parsed.comparators.every(({ op, version: bound }) => holds(op, compareVersions(version, bound)));
}

function holds(op: Operator, order: number): boolean {
  switch (op) {
    case '>=':
      return order >= 0;
    case '>':
      return order > 0;
    case '<=':
      return order <= 0;
    case '<':
      return order < 0;
    case '=':
      return order === 0;
  }
}
