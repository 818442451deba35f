/**
 * Pure: a process's output cut into whole lines as its chunks arrive. A chunk ends anywhere, so
 * the unfinished rest is carried to the next one; a line without an end in sight is cut at
 * `maxLine` characters, so one runaway line cannot hold the reader's memory.
 */
export interface SplitLines {
  readonly lines: string[];
  /** The text after the last line end, to be given back with the next chunk. */
  readonly carry: string;
}

export const MAX_LINE_CHARS = 16 * 1024;

export function splitLines(carry: string, chunk: string, maxLine = MAX_LINE_CHARS): SplitLines {
  const parts = (carry + chunk).split('\n');
  let rest = parts.pop() ?? '';
  const lines = parts.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l)).flatMap((l) => cut(l, maxLine));
  while (rest.length > maxLine) {
    lines.push(rest.slice(0, maxLine));
    rest = rest.slice(maxLine);
  }
  return { lines, carry: rest };
}

function cut(line: string, maxLine: number): string[] {
  if (line.length <= maxLine) return [line];
  const pieces: string[] = [];
  for (let i = 0; i < line.length; i += maxLine) pieces.push(line.slice(i, i + maxLine));
  return pieces;
}
