/**
 * The progress of an operator's request (issue 16, DESIGN §4.9): the step records the writer logs
 * while it carries the request out — a change planned with its steps, each step done, a failure,
 * a rollback, how it ended. One format for both ways a waiting side learns them: the JSON lines
 * file the daemon appends beside the request in `<state>/requests/`, and the writer's Logger in
 * process. `duck upgrade` prints them, the console streams them to the page.
 */

/** The events of the writer's log that are steps of a request (apply/apply-change logs them). */
export const PROGRESS_EVENTS = ['change', 'recover', 'download', 'engine-wait', 'step', 'step-failed', 'rollback', 'outcome'] as const;
export type ProgressEvent = (typeof PROGRESS_EVENTS)[number];

export interface ProgressRecord {
  /** When the writer logged it (ISO 8601). */
  readonly at: string;
  readonly event: ProgressEvent;
  readonly fields: Readonly<Record<string, unknown>>;
}

/**
 * A request's records are kept to this many: an upgrade of every app is a few hundred; what is
 * beyond is a writer gone round in circles, and a reader must not grow without end.
 */
export const MAX_PROGRESS_RECORDS = 2000;

/** Pure: the record of a logged event, or null when the event is not a step of a request. */
export function progressRecordOf(event: string, fields: Readonly<Record<string, unknown>> | undefined, at: Date): ProgressRecord | null {
  if (!(PROGRESS_EVENTS as readonly string[]).includes(event)) return null;
  return { at: at.toISOString(), event: event as ProgressEvent, fields: { ...fields } };
}

/** One record as a line of the progress file. */
export function progressLine(record: ProgressRecord): string {
  return `${JSON.stringify(record)}\n`;
}

/**
 * Pure: the whole records in `text` (a file read as it grows), and the part of a line not yet
 * ended, to read again with what follows. A line that is not a record is skipped, not fatal.
 */
export function parseProgressLines(text: string): { records: ProgressRecord[]; rest: string } {
  const end = text.lastIndexOf('\n');
  const records: ProgressRecord[] = [];
  for (const line of text.slice(0, end + 1).split('\n')) {
    if (line === '') continue;
    const record = recordOf(line);
    if (record) records.push(record);
  }
  return { records, rest: text.slice(end + 1) };
}

function recordOf(line: string): ProgressRecord | null {
  try {
    const v = JSON.parse(line) as Partial<ProgressRecord>;
    if (typeof v.at !== 'string' || typeof v.event !== 'string' || typeof v.fields !== 'object' || v.fields === null) return null;
    return (PROGRESS_EVENTS as readonly string[]).includes(v.event) ? (v as ProgressRecord) : null;
  } catch {
    return null;
  }
}
