/**
 * SIGTERM/SIGINT: the first drains, a second one exits at once. A repeat within a second is
 * the same request delivered twice (Ctrl-C signals the whole process group, and `make` also
 * passes its own signal on to the processor), so it does not count as the second.
 */
const REPEAT_WINDOW_MS = 1_000;

export function handleSignals(
  handlers: { onFirst: (signal: NodeJS.Signals) => void; onSecond: (signal: NodeJS.Signals) => void },
  now: () => number = Date.now,
): () => void {
  let firstAt: number | undefined;
  const listener = (signal: NodeJS.Signals) => {
    if (firstAt === undefined) {
      firstAt = now();
      handlers.onFirst(signal);
    } else if (now() - firstAt >= REPEAT_WINDOW_MS) {
      handlers.onSecond(signal);
    }
  };
  process.on('SIGTERM', listener);
  process.on('SIGINT', listener);
  return () => {
    process.off('SIGTERM', listener);
    process.off('SIGINT', listener);
  };
}
