/** SIGTERM/SIGINT: the first drains, a second one exits at once. */
export function handleSignals(handlers: { onFirst: (signal: NodeJS.Signals) => void; onSecond: (signal: NodeJS.Signals) => void }): () => void {
  let received = 0;
  const listener = (signal: NodeJS.Signals) => {
    received += 1;
    if (received === 1) handlers.onFirst(signal);
    else handlers.onSecond(signal);
  };
  process.on('SIGTERM', listener);
  process.on('SIGINT', listener);
  return () => {
    process.off('SIGTERM', listener);
    process.off('SIGINT', listener);
  };
}
