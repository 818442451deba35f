/**
 * A reader that goes away early (`duck status | head`) closes the pipe, and Node reports the next
 * write as an 'error' event with EPIPE; unhandled, that ends the command with a stack trace. Duck
 * treats a closed stdout or stderr as a reader that has seen enough: what would have been printed
 * is dropped, and the command carries on to its end and exits with its own code. It never stops
 * half-way because nobody reads it — an upgrade piped into `head` still finishes, and its exit
 * code still says whether it applied. (`duck run` also stops between steps when its log closes:
 * run.ts listens for that itself.)
 */
export function dropOutputOnceClosed(streams: readonly NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (!isClosedPipe(err)) throw err;
    });
  }
}

/** The error a write to a pipe whose reader has gone raises. */
export function isClosedPipe(err: NodeJS.ErrnoException): boolean {
  return err.code === 'EPIPE';
}
