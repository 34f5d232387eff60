/** A part of the local runtime that can be stopped, named for the log. */
export interface Stoppable {
  name: string;
  stop(): Promise<void>;
}

/**
 * How long the parts holding work (a job's handler, a stream batch, a scheduled run) get to finish it
 * on Ctrl-C. What is cut short is not lost: an unfinished job's message and an unread stream batch
 * come back on the next start, as on AWS when a Lambda is stopped mid-run.
 */
export const stopGraceMs = 10_000;

/** The least time each remaining part gets once the grace is spent: the emulators must still close. */
const lastPartMs = 3_000;

/**
 * Stops the parts in the order given, each within what is left of `graceMs` (at least 3 s), so that
 * one part stuck in a long job cannot keep the whole runtime from stopping. Returns the names of the
 * parts that did not stop in time; the caller exits and takes them with it.
 */
export async function stopInTime(parts: Stoppable[], graceMs: number, log: (line: string) => void): Promise<string[]> {
  const deadline = Date.now() + graceMs;
  const leftBehind: string[] = [];
  for (const part of parts) {
    const started = Date.now();
    const allowedMs = Math.max(lastPartMs, deadline - started);
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      part.stop().then(
        () => 'stopped' as const,
        (error: unknown) => {
          log(`${part.name}: stop failed: ${(error as Error).message ?? String(error)}`);
          return 'failed' as const;
        },
      ),
      new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), allowedMs);
      }),
    ]);
    clearTimeout(timer);
    if (outcome === 'late') {
      leftBehind.push(part.name);
      log(`${part.name} did not stop within ${(allowedMs / 1000).toFixed(1)} s; leaving its unfinished work for the next start`);
    } else if (Date.now() - started > 2_000) {
      log(`${part.name} took ${((Date.now() - started) / 1000).toFixed(1)} s to stop`);
    }
  }
  return leftBehind;
}
