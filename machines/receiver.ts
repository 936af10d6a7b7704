/**
 * A poller's receiver: one actor for the poller's lifetime that makes its receives, so a receive
 * costs an event each way rather than an actor of its own. RECEIVE starts a receive with a fresh
 * abort signal; its answer comes back to the poller as RECEIVED or RECEIVE_FAILED. The receiver
 * stopping with its poller aborts the receive in flight and drops its answer: a message the
 * endpoint handed out in that instant becomes visible again when its visibility timeout ends.
 */
import { fromCallback } from 'xstate';
import type { QueueMessage } from './types.ts';

export interface ReceiveInput {
  readonly maxMessages: number;
  readonly waitSeconds: number;
}

export type ReceiverEvent = { type: 'RECEIVE' } & ReceiveInput;
export type ReceiverAnswer = { type: 'RECEIVED'; output: QueueMessage[] } | { type: 'RECEIVE_FAILED'; error: unknown };

/** The receiver actor logic around one receive call (the SQS adapter's, or a test's). */
export function receiverOf(receive: (input: ReceiveInput, signal: AbortSignal) => Promise<QueueMessage[]>) {
  return fromCallback<ReceiverEvent>(({ sendBack, receive: onEvent }) => {
    let current: AbortController | undefined;
    const cancel = () => {
      current?.abort();
      current = undefined;
    };
    const answer = (call: AbortController, event: ReceiverAnswer) => {
      if (current !== call) return;
      current = undefined;
      sendBack(event);
    };
    onEvent((event) => {
      // One receive at a time: a poller asks again only after an answer, so this replaces nothing in practice.
      cancel();
      const call = new AbortController();
      current = call;
      let pending: Promise<QueueMessage[]>;
      try {
        pending = receive({ maxMessages: event.maxMessages, waitSeconds: event.waitSeconds }, call.signal);
      } catch (error) {
        pending = Promise.reject(error);
      }
      pending.then(
        (output) => answer(call, { type: 'RECEIVED', output }),
        (error: unknown) => answer(call, { type: 'RECEIVE_FAILED', error }),
      );
    });
    return cancel;
  });
}
