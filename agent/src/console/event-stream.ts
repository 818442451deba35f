import type { ServerResponse } from 'node:http';

/**
 * Pure: one server-sent event. The data is JSON on one `data:` line: JSON.stringify escapes every
 * line end inside strings, so a log line holding "\n\nevent: x" cannot end the event or forge one.
 */
export function sseFrame(type: string, data: unknown): string {
  if (!/^[a-z][a-z-]*$/.test(type)) throw new Error(`an event type is lower-case letters and "-", got "${type}"`);
  return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

export interface EventStream {
  send(type: string, data: unknown): void;
  end(): void;
  /** Calls `done` once when the stream ends, from either side (the page left, or `end()`). */
  onClose(done: () => void): void;
}

/** Answers the request with `text/event-stream`; the console's CSP and no-store headers are already set. */
export function openEventStream(res: ServerResponse): EventStream {
  res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive' });
  res.flushHeaders();
  return {
    send: (type, data) => {
      if (!res.writableEnded && !res.destroyed) res.write(sseFrame(type, data));
    },
    end: () => {
      if (!res.writableEnded) res.end();
    },
    onClose: (done) => {
      let called = false;
      const once = (): void => {
        if (called) return;
        called = true;
        done();
      };
      res.once('close', once);
      if (res.destroyed || res.writableFinished) once();
    },
  };
}
