import type { Logger } from '../ports.js';

/** One event per line: JSON lines for machines (`--log-format json`), `key=value` text for people. */
export function createLogger(format: string, stream: NodeJS.WritableStream = process.stdout): Logger {
  if (format === 'json') {
    return (event, fields = {}) => void stream.write(`${JSON.stringify({ time: new Date().toISOString(), event, ...fields })}\n`);
  }
  return (event, fields = {}) => void stream.write(textLogLine(new Date().toISOString(), event, fields));
}

/** The text form of one logged event: also how `duck upgrade` prints the steps duck run logged. */
export function textLogLine(time: string, event: string, fields: Readonly<Record<string, unknown>>): string {
  const parts = Object.entries(fields)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `${k}=${typeof v === 'string' && /\s/.test(v) ? JSON.stringify(v) : typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
  return `${time} ${event}${parts.length ? ' ' + parts.join(' ') : ''}\n`;
}
