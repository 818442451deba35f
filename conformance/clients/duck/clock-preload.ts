// Loaded by `node --import` before Duck when the conformance suite sets its clock (CONFORMANCE_NOW):
// Date reads that instant plus the time since this process started, so a case can move the clock
// back or forward while deadlines and timers still run. Duck's own code has no time override.
import { CLOCK_ENV } from '../../protocol.js';

const given = process.env[CLOCK_ENV];
if (given !== undefined) {
  const at = Date.parse(given);
  if (Number.isNaN(at)) throw new Error(`${CLOCK_ENV}: "${given}" is not an ISO 8601 instant`);
  const RealDate = Date;
  const offset = at - RealDate.now();
  class ShiftedDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(RealDate.now() + offset);
      else super(...(args as [string | number]));
    }

    static override now(): number {
      return RealDate.now() + offset;
    }
  }
  globalThis.Date = ShiftedDate as DateConstructor;
}
