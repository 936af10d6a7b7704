/**
 * Waiting for machines on a simulated clock. They do no I/O but promise callbacks, and Node runs
 * every queued microtask (and every one those queue) before the next macrotask: after one turn of
 * the event loop, whatever the last event or clock step set off has run, and the system is idle
 * until the clock moves or a test sends another event.
 */

/** Resolves once the system is idle: every promise callback queued so far, and what they queued, has run. */
export function idle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Resolves once `condition` holds, checked each time the system is idle; rejects naming `what`
 * if it still does not after `maxTurns` (the clock does not move meanwhile: the state is expected
 * without it).
 */
export async function until(condition: () => boolean, what: string, maxTurns = 50): Promise<void> {
  for (let turn = 0; turn < maxTurns; turn++) {
    if (condition()) return;
    await idle();
  }
  if (!condition()) throw new Error(`not reached without the clock moving: ${what}`);
}
