/**
 * The states of a buffer that takes `event`s and hands them on in groups through the `flush`
 * action: a full group at once, the rest once `linger` has passed since the first buffered item,
 * everything on DRAIN, then `stopped` when nothing is buffered or in progress. The writer (visits
 * into batches) and the dead-letterer (rejected messages into DLQ calls) are such buffers. Their
 * setup names the actions `append` and `flush` (params `{ all: boolean }`), the guards
 * `bufferEmpty` and `idle`, and the delay `linger`; `admit` replaces `append` while open (the
 * writer keeps only its share there).
 */
export function lingerBufferStates<Event extends string, Flush extends string, Admit = 'append'>(event: Event, flush: Flush, admit?: Admit) {
  type HandOn = { target?: 'filling'; actions: Array<'append' | Admit | { type: Flush; params: { all: boolean } }> };
  // While open, `admit` (by default `append`) decides what enters the buffer; while draining, everything does.
  const handOn = (all: boolean): HandOn['actions'] => [all ? 'append' : (admit ?? 'append'), { type: flush, params: { all } }];
  return {
    open: {
      initial: 'idle' as const,
      on: { DRAIN: 'draining' as const },
      states: {
        idle: { on: { [event]: { target: 'filling' as const, actions: handOn(false) } } as Record<Event, HandOn> },
        filling: {
          // Targetless, so the linger timer keeps running from the first buffered item.
          on: { [event]: { actions: handOn(false) } } as Record<Event, HandOn>,
          always: { guard: 'bufferEmpty' as const, target: 'idle' as const },
          after: { linger: { target: 'idle' as const, actions: { type: flush, params: { all: true } } } },
        },
      },
    },
    draining: {
      entry: { type: flush, params: { all: true } },
      // A poller mid-dispatch may still hand items over: they go on at once.
      on: { [event]: { actions: handOn(true) } } as Record<Event, HandOn>,
      always: { guard: 'idle' as const, target: 'stopped' as const },
    },
    stopped: { type: 'final' as const },
  };
}
