/**
 * A poller: takes credits, long-polls the PIPELINE, validates each message against the
 * contract, hands valid visits to the writer of their type and the rest to the dead-letterer
 * (or, when there is none, dead-letters them itself).
 *
 *   paused (waiting for credits) -> receiving -> (dispatch) -> receiving again when credits are free, else paused
 *                                       |            \-> deadLettering -> paused   (no dead-letterer to hand them to)
 *                                       \-> backoff (SQS error: growing delay, reported) -> paused
 *   STOP: a receive in flight gets a short grace (stopGraceMs): on a busy queue it answers at
 *   once and what it returns is released (visibility 0). One still waiting after that is an
 *   idle long poll: it is aborted, so an idle processor stops without waiting for it. A message
 *   the endpoint handed out in that instant is not lost: it becomes visible again when its
 *   visibility timeout ends.
 * The receives are made by one receiver actor for the poller's lifetime (./receiver.ts).
 */
import { assign, enqueueActions, setup, type AnyActorRef } from 'xstate';
import { parseVisitBody } from '../src/contract/visit.ts';
import type { VisitTypeName } from '../src/contract/visit-types.ts';
import { backoffDelay } from './backoff.ts';
import { deadLetterReports } from './dead-letter-reports.ts';
import { DEAD_LETTERER_ID, type DeadLettererEvent } from './dead-letterer.ts';
import { notProvided } from './not-provided.ts';
import { receiverOf, type ReceiverAnswer, type ReceiverEvent } from './receiver.ts';
import {
  writerSystemId,
  type DeadLetterResult,
  type Delivery,
  type EntryResult,
  type Lease,
  type PollerSettings,
  type QueueMessage,
  type RejectedMessage,
  type Report,
} from './types.ts';

export interface PollerInput {
  readonly id: string;
  readonly settings: PollerSettings;
}

interface PollerContext extends PollerInput {
  /** Credits taken from the pool and not yet handed on (booked under this poller's id, so a crash returns them without reading this). */
  holding: number;
  /** What a receive returned after STOP: released, not dispatched. */
  messages: readonly QueueMessage[];
  rejected: readonly RejectedMessage[];
  failures: number;
  delayMs: number;
  stopRequested: boolean;
}

export type PollerEvent = { type: 'STOP' } | ReceiverAnswer;

type WriterVisitsEvent = { type: 'VISITS'; deliveries: readonly Delivery[] };
type ReceivedEvent = Extract<ReceiverAnswer, { type: 'RECEIVED' }>;
const RECEIVER_ID = 'receiver';

/** Checks each message against the contract: a delivery for each valid one, a rejection for the rest. */
export function validateMessages(messages: readonly QueueMessage[]): { valid: Delivery[]; rejected: RejectedMessage[] } {
  const valid: Delivery[] = [];
  const rejected: RejectedMessage[] = [];
  for (const message of messages) {
    const result = parseVisitBody(message.body, message.messageId);
    if (result.ok)
      valid.push({
        visit: result.visit,
        messageId: message.messageId,
        receiptHandle: message.receiptHandle,
        receiveCount: message.receiveCount,
        body: message.body,
      });
    else rejected.push({ message, rejection: result.rejection });
  }
  return { valid, rejected };
}

/** Deliveries by visit type: one VISITS event per writer. */
export function groupByType(deliveries: readonly Delivery[]): Map<VisitTypeName, Delivery[]> {
  const byType = new Map<VisitTypeName, Delivery[]>();
  for (const delivery of deliveries) {
    const list = byType.get(delivery.visit.type);
    if (list) list.push(delivery);
    else byType.set(delivery.visit.type, [delivery]);
  }
  return byType;
}

const reportReceived = {
  type: 'report',
  params: ({ context, event }: { context: PollerContext; event: ReceivedEvent }): Report => ({
    kind: 'received',
    poller: context.id,
    count: event.output.length,
  }),
} as const;

const pollerSetup = setup({
  types: {
    input: {} as PollerInput,
    context: {} as PollerContext,
    events: {} as PollerEvent,
  },
  actors: {
    acquireCredits: notProvided<number, { max: number; owner: string }>('acquireCredits'),
    /** The receiver (receiverOf around the SQS adapter's receive); provided by the processor. */
    receiveMessages: receiverOf(() => Promise.reject(new Error('actor receiveMessages was not provided'))),
    deadLetter: notProvided<DeadLetterResult, { rejected: readonly RejectedMessage[] }>('deadLetter'),
    release: notProvided<EntryResult, { leases: readonly Lease[] }>('release'),
  },
  actions: {
    /** Asks the receiver for a receive of the credits held, unless kept rejections go first (then there is none to answer). */
    startReceive: enqueueActions(({ context, enqueue, check }) => {
      // The same guard that leaves 'receiving' for 'deadLettering': a receive is asked for only where its answer is taken.
      if (check('hasRejected')) return;
      const receive: ReceiverEvent = { type: 'RECEIVE', maxMessages: context.holding, waitSeconds: context.settings.waitSeconds };
      enqueue.sendTo(RECEIVER_ID, receive);
    }),
    returnCredits: (_, _count: number) => {},
    /** Credits follow visits from this poller to the writer (by actor id) that now holds them. */
    transferCredits: (_, _params: { to: string; count: number }) => {},
    report: (_, _report: Report) => {},
    /** Takes a full receive's credits at once, on top of what the poller holds (only after `creditsFree`); provided by the processor. */
    takeCredits: assign({}),
  },
  guards: {
    /** Whether a full receive's credits are free now, so the poller need not wait for them; provided by the processor. */
    creditsFree: () => false,
    hasRejected: ({ context }) => context.rejected.length > 0,
    stopRequested: ({ context }) => context.stopRequested,
    nothingReceived: ({ context }) => context.messages.length === 0,
  },
  delays: {
    backoff: ({ context }) => context.delayMs,
    stopGrace: ({ context }) => context.settings.stopGraceMs,
  },
});

/**
 * Hands the received messages on: valid visits (with their credits) to the writer of their type,
 * rejected ones to the dead-letterer, or keeps them to dead-letter itself when there is none.
 * Unused and unroutable credits go back to the pool.
 */
const dispatch = pollerSetup.enqueueActions(({ context, event, enqueue, system }) => {
  const { valid, rejected } = validateMessages((event as ReceivedEvent).output);
  let handedOn = 0;
  for (const [type, deliveries] of groupByType(valid)) {
    const writer = system.get(writerSystemId(type)) as AnyActorRef | undefined;
    if (writer) {
      const visits: WriterVisitsEvent = { type: 'VISITS', deliveries };
      enqueue({ type: 'transferCredits', params: { to: writer.id, count: deliveries.length } });
      enqueue.sendTo(writer, visits);
      handedOn += deliveries.length;
    } else {
      // Writer restarting: the messages come back when their lease expires.
      enqueue({ type: 'report', params: { kind: 'unroutable', poller: context.id, type, count: deliveries.length } });
    }
  }
  // Rejected messages go to the dead-letterer, which sends them with others' in one DLQ call;
  // without it (restarting, or a poller on its own) this poller sends them itself.
  const deadLetterer = rejected.length > 0 ? (system.get(DEAD_LETTERER_ID) as AnyActorRef | undefined) : undefined;
  if (deadLetterer) {
    enqueue({ type: 'transferCredits', params: { to: deadLetterer.id, count: rejected.length } });
    enqueue.sendTo(deadLetterer, { type: 'REJECTED', rejected } satisfies DeadLettererEvent);
  }
  const kept = deadLetterer ? [] : rejected;
  enqueue({ type: 'returnCredits', params: context.holding - handedOn - rejected.length });
  enqueue.assign({ holding: kept.length, rejected: kept, failures: 0 });
});

export const pollerMachine = pollerSetup.createMachine({
  id: 'poller',
  context: ({ input }) => ({ ...input, holding: 0, messages: [], rejected: [], failures: 0, delayMs: 0, stopRequested: false }),
  initial: 'paused',
  // Lives as long as the poller: stopping the poller aborts the receive in flight.
  invoke: { id: RECEIVER_ID, src: 'receiveMessages' },
  states: {
    paused: {
      on: { STOP: 'stopped' },
      always: { guard: 'hasRejected', target: 'deadLettering' },
      invoke: {
        src: 'acquireCredits',
        input: ({ context, self }) => ({ max: context.settings.maxMessages, owner: self.id }),
        onDone: { target: 'receiving', actions: assign({ holding: ({ event }) => event.output }) },
      },
    },
    receiving: {
      entry: 'startReceive',
      // Rejected messages kept by the last dispatch (no dead-letterer to take them) are sent first.
      always: { guard: 'hasRejected', target: 'deadLettering' },
      initial: 'polling',
      states: {
        polling: { on: { STOP: 'stopping' } },
        stopping: {
          entry: assign({ stopRequested: true }),
          // Still no answer: an idle long poll. Stopping the poller stops its receiver, which aborts it; the credits go back.
          after: {
            stopGrace: { target: '#poller.stopped', actions: [{ type: 'returnCredits', params: ({ context }) => context.holding }, assign({ holding: 0 })] },
          },
        },
      },
      on: {
        // Dispatching is an action of the answer's transition, not a state of its own: one step per receive.
        RECEIVED: [
          { guard: 'stopRequested', target: 'releasing', actions: assign({ messages: ({ event }) => event.output }) },
          { guard: 'creditsFree', target: 'receiving', reenter: true, actions: [reportReceived, dispatch, 'takeCredits'] },
          { target: 'paused', actions: [reportReceived, dispatch] },
        ],
        RECEIVE_FAILED: [
          { guard: 'stopRequested', target: 'stopped', actions: [{ type: 'returnCredits', params: ({ context }) => context.holding }, assign({ holding: 0 })] },
          {
            target: 'backoff',
            actions: [
              assign(({ context }) => ({
                failures: context.failures + 1,
                delayMs: backoffDelay(context.failures + 1, {
                  baseMs: context.settings.backoffBaseMs,
                  maxMs: context.settings.backoffMaxMs,
                }),
              })),
              {
                type: 'report',
                params: ({ context, event }) => ({
                  kind: 'receive-failed',
                  poller: context.id,
                  attempt: context.failures,
                  delayMs: context.delayMs,
                  error: event.error,
                }),
              },
            ],
          },
        ],
      },
    },
    deadLettering: {
      // Finish this even when asked to stop: the messages are in hand.
      on: { STOP: { actions: assign({ stopRequested: true }) } },
      invoke: {
        src: 'deadLetter',
        input: ({ context }) => ({ rejected: context.rejected }),
        // Per message: what the DLQ took is gone from the PIPELINE; the rest waits there and is tried again.
        onDone: {
          target: 'afterDeadLetter',
          actions: enqueueActions(({ context, event, enqueue }) => {
            const reasonOf = (messageId: string) => context.rejected.find((r) => r.message.messageId === messageId)!.rejection;
            for (const report of deadLetterReports(context.id, event.output, reasonOf)) enqueue({ type: 'report', params: report });
          }),
        },
        // Not deleted from the PIPELINE, so they are received again after their lease and retried.
        onError: {
          target: 'afterDeadLetter',
          actions: {
            type: 'report',
            params: ({ context, event }) => ({ kind: 'dead-letter-failed', source: context.id, count: context.rejected.length, error: event.error }),
          },
        },
      },
    },
    afterDeadLetter: {
      entry: [{ type: 'returnCredits', params: ({ context }) => context.holding }, assign({ holding: 0, rejected: [] })],
      always: [{ guard: 'stopRequested', target: 'stopped' }, { target: 'paused' }],
    },
    backoff: {
      entry: [{ type: 'returnCredits', params: ({ context }) => context.holding }, assign({ holding: 0 })],
      on: { STOP: 'stopped' },
      after: { backoff: 'paused' },
    },
    releasing: {
      always: { guard: 'nothingReceived', target: 'stopped' },
      invoke: {
        src: 'release',
        input: ({ context }) => ({ leases: context.messages }),
        onDone: {
          target: 'stopped',
          actions: { type: 'report', params: ({ context }) => ({ kind: 'released', source: context.id, count: context.messages.length, reason: 'shutdown' }) },
        },
        onError: { target: 'stopped' },
      },
      exit: [{ type: 'returnCredits', params: ({ context }) => context.holding }, assign({ holding: 0, messages: [] })],
    },
    stopped: { type: 'final' },
  },
});
