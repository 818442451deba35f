import { DuckError } from '../../schemas/errors.js';

/** The DuckError a promise rejects with; any other outcome fails the test. */
export async function rejection(promise: Promise<unknown>): Promise<DuckError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof DuckError) return err;
    throw err;
  }
  throw new Error('expected a DuckError, but the call succeeded');
}
