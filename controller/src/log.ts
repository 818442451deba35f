// Logs are one event per line with fields ({event: 'report', agentId, ms}); main.ts writes them to
// stderr as JSON, tests pass a silent or collecting logger.
export type LogFields = { event: string } & Record<string, unknown>;
export type Log = (fields: LogFields) => void;

export const silentLog: Log = () => undefined;

export function jsonLineLog(write: (line: string) => void): Log {
  return (fields) => write(`${JSON.stringify({ at: new Date().toISOString(), ...fields })}\n`);
}
