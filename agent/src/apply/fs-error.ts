import { DuckError } from '../../../schemas/errors.js';

/** A file-system failure as a DuckError naming the file; a full disk is 'no-space', not 'io'. */
export function fsError(file: string, what: string, err: unknown): DuckError {
  if (err instanceof DuckError) return err;
  const errno = (err as NodeJS.ErrnoException).code;
  const full = errno === 'ENOSPC' || errno === 'EDQUOT';
  const message = `${what} ${file}: ${err instanceof Error ? err.message : String(err)}`;
  return new DuckError(full ? 'no-space' : 'io', message, { file, errno }, full ? 'stalled' : 'transient', { cause: err });
}
