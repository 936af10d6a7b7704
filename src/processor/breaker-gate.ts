/** Waiting at a table's circuit breaker before a write: abortable, and the probe is marked. */
import type { CircuitBreaker } from '../../machines/circuit-breaker.ts';

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    signal.throwIfAborted();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });
}

/** Resolves when a write may go (true when it is the probe of a half-open circuit). */
export async function passBreaker(breaker: CircuitBreaker, signal: AbortSignal): Promise<boolean> {
  for (;;) {
    const decision = breaker.request();
    if (decision.go) return decision.probe;
    await sleep(Math.max(1, decision.waitMs), signal);
  }
}
