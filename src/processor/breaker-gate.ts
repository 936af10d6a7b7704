/** Waiting at a table's circuit breaker before a write: abortable, bounded, and the probe is marked. */
import type { CircuitBreaker } from '../../machines/circuit-breaker.ts';

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    signal.throwIfAborted();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });
}

/**
 * Resolves when a write may go: 'probe' when it is the one probe of a half-open circuit,
 * 'write' otherwise, or 'closed-out' when the circuit did not let it through by `until`
 * (epoch ms; the write deadline, so the caller's lease still covers whatever it does next).
 */
export async function passBreaker(breaker: CircuitBreaker, signal: AbortSignal, until: number): Promise<'write' | 'probe' | 'closed-out'> {
  for (;;) {
    const decision = breaker.request();
    if (decision.go) return decision.probe ? 'probe' : 'write';
    const left = until - Date.now();
    if (left <= 0) return 'closed-out';
    await sleep(Math.max(1, Math.min(decision.waitMs, left)), signal);
  }
}
