/**
 * The dead-letterer: collects the messages every poller rejected and copies them to the DLQ
 * in batches across receives. Invalid messages are a few per cent of a burst, so one receive
 * rarely holds more than one: sent per receive they cost a SendMessageBatch and a
 * DeleteMessageBatch each, sent together they share those two calls ten at a time. Pollers
 * hand their rejected messages here (with their credits) and go on receiving.
 *
 *   open.idle -> open.filling -> (10 letters | linger) send -> open.idle
 *   draining: send everything at once, wait for every send to finish -> stopped
 *
 * Each send is a child actor: what the DLQ accepted is deleted from the PIPELINE, the rest
 * stays there (hidden for a while) and is received and rejected again. Credits come back
 * when a send finishes, whatever its outcome.
 */
import { assign, enqueueActions, setup } from 'xstate';
import { deadLetterReports } from './dead-letter-reports.ts';
import { lingerBufferStates } from './linger-buffer.ts';
import { notProvided } from './not-provided.ts';
import type { DeadLetterResult, RejectedMessage, Report } from './types.ts';

/** The systemId and actor id pollers find the dead-letterer by (its credits are booked under it). */
export const DEAD_LETTERER_ID = 'dead-letterer';

/** SQS batch calls take at most 10 entries. */
const SEND_SIZE = 10;

export interface DeadLettererInput {
  /** Longest a rejected message waits for others to share its DLQ call. */
  readonly lingerMs: number;
}

interface DeadLettererContext extends DeadLettererInput {
  buffer: RejectedMessage[];
  /** Running sends: actor id -> the messages it carries. */
  sends: Record<string, readonly RejectedMessage[]>;
  nextSend: number;
}

export type DeadLettererEvent =
  | { type: 'REJECTED'; rejected: readonly RejectedMessage[] }
  | { type: 'DRAIN' }
  | { type: `xstate.done.actor.${string}`; output: DeadLetterResult; actorId: string }
  | { type: `xstate.error.actor.${string}`; error: unknown; actorId: string };

const deadLettererSetup = setup({
  types: {
    input: {} as DeadLettererInput,
    context: {} as DeadLettererContext,
    events: {} as DeadLettererEvent,
  },
  actors: {
    deadLetter: notProvided<DeadLetterResult, { rejected: readonly RejectedMessage[] }>('deadLetter'),
  },
  actions: {
    returnCredits: (_, _count: number) => {},
    report: (_, _report: Report) => {},
    append: assign(({ context, event }) => {
      const { rejected } = event as Extract<DeadLettererEvent, { type: 'REJECTED' }>;
      return { buffer: context.buffer.concat(rejected) };
    }),
    /** Starts sends of 10; `all` also sends a partial one. */
    send: enqueueActions(({ context, enqueue }, params: { all: boolean }) => {
      let buffer = context.buffer;
      const sends = { ...context.sends };
      let next = context.nextSend;
      while (buffer.length >= SEND_SIZE || (params.all && buffer.length > 0)) {
        const rejected = buffer.slice(0, SEND_SIZE);
        buffer = buffer.slice(SEND_SIZE);
        const id = `dlq-send-${next++}`;
        sends[id] = rejected;
        enqueue.spawnChild('deadLetter', { id, input: { rejected } });
      }
      enqueue.assign({ buffer, sends, nextSend: next });
    }),
  },
  guards: {
    bufferEmpty: ({ context }) => context.buffer.length === 0,
    idle: ({ context }) => context.buffer.length === 0 && Object.keys(context.sends).length === 0,
  },
  delays: {
    linger: ({ context }) => context.lingerMs,
  },
});

/** A send finished: report what became of each message, give its credits back, forget it. */
const sendDone = deadLettererSetup.enqueueActions(({ context, event, enqueue }) => {
  const id = (event as { actorId: string }).actorId;
  const rejected = context.sends[id];
  if (!rejected) return;
  if (event.type.startsWith('xstate.done.actor.')) {
    const output = (event as { output: DeadLetterResult }).output;
    const reasonOf = (messageId: string) => rejected.find((r) => r.message.messageId === messageId)!.rejection;
    for (const report of deadLetterReports(DEAD_LETTERER_ID, output, reasonOf)) enqueue({ type: 'report', params: report });
  } else {
    // Not deleted from the PIPELINE, so they are received again after their lease and retried.
    const error = (event as { error: unknown }).error;
    enqueue({ type: 'report', params: { kind: 'dead-letter-failed', source: DEAD_LETTERER_ID, count: rejected.length, error } });
  }
  enqueue({ type: 'returnCredits', params: rejected.length });
  enqueue.stopChild(id);
  const { [id]: _, ...sends } = context.sends;
  enqueue.assign({ sends });
});

export const deadLettererMachine = deadLettererSetup.createMachine({
  id: 'deadLetterer',
  context: ({ input }) => ({ ...input, buffer: [], sends: {}, nextSend: 1 }),
  initial: 'open',
  on: {
    'xstate.done.actor.*': { actions: sendDone },
    'xstate.error.actor.*': { actions: sendDone },
  },
  states: lingerBufferStates('REJECTED', 'send'),
});
