/**
 * What `--trace FILE` leaves out by default: the pollers' idle loop. Every poller long-polls again
 * and again, and a poll that receives nothing says nothing about the visits; with eight pollers
 * those polls are most of a trace. A poller's events (and its children's: the receiver, the credit
 * wait) are kept from a receive that brought messages or failed until its next receive starts;
 * each poller's creation, STOP and end are kept. Everything else is kept. `--trace-all` keeps all.
 */
import type { InspectionEvent } from 'xstate';

/** The poller an actor belongs to (itself or an ancestor named `poller-N`), or undefined. */
function pollerOf(ref: unknown): string | undefined {
  for (let actor = ref as { id?: string; _parent?: unknown } | undefined, depth = 0; actor && depth < 8; depth++) {
    if (actor.id?.startsWith('poller-')) return actor.id;
    actor = actor._parent as typeof actor;
  }
  return undefined;
}

/** Events a poller receives that make its cycle worth tracing: messages came, or something failed. */
function worthTracing(event: { type: string; output?: unknown }): boolean {
  if (event.type === 'RECEIVED') return Array.isArray(event.output) && event.output.length > 0;
  return event.type === 'RECEIVE_FAILED' || event.type.startsWith('xstate.error');
}

/** A stateful filter over the inspection stream: `keep(event)` says whether the trace writes it. */
export function createIdlePollFilter(): (event: InspectionEvent) => boolean {
  const tracing = new Set<string>();
  return (event) => {
    const poller = pollerOf(event.actorRef);
    if (poller === undefined) return true;
    const own = (event.actorRef as { id?: string }).id === poller;
    // Each poller's life stays visible: created, told to stop, stopped.
    if (event.type === '@xstate.actor') return own;
    if (own && event.type === '@xstate.snapshot' && event.snapshot.status !== 'active') return true;
    if (event.type === '@xstate.event') {
      if (own && event.event.type === 'STOP') return true;
      if (own && worthTracing(event.event)) tracing.add(poller);
      // The next long poll begins: what follows is idle until it brings something.
      else if (event.event.type === 'RECEIVE') tracing.delete(poller);
    }
    return tracing.has(poller);
  };
}
