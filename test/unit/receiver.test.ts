/**
 * A poller's receiver: each RECEIVE is one call with its own signal, answered to the poller
 * as RECEIVED or RECEIVE_FAILED; stopping it aborts the call in flight and drops its answer.
 */
import test from 'ava';
import { createActor, sendTo, setup, type AnyEventObject } from 'xstate';
import { receiverOf, type ReceiveInput, type ReceiverEvent } from '../../machines/receiver.ts';
import type { QueueMessage } from '../../machines/types.ts';
import { idle } from '../support/idle.ts';

const message = (id: string): QueueMessage => ({ messageId: id, receiptHandle: `r-${id}`, body: '{}', receiveCount: 1 });

/** A parent that invokes the receiver, forwards ASK as RECEIVE, and records what comes back. */
function harness(receive: (input: ReceiveInput, signal: AbortSignal) => Promise<QueueMessage[]>) {
  const answers: AnyEventObject[] = [];
  const parent = setup({
    types: { events: {} as AnyEventObject },
    actors: { receiver: receiverOf(receive) },
  }).createMachine({
    invoke: { id: 'receiver', src: 'receiver' },
    on: {
      ASK: { actions: sendTo('receiver', { type: 'RECEIVE', maxMessages: 7, waitSeconds: 20 } satisfies ReceiverEvent) },
      '*': { actions: ({ event }) => void answers.push(event) },
    },
  });
  return { actor: createActor(parent).start(), answers };
}

test('each RECEIVE is one call with its input, answered as RECEIVED', async (t) => {
  const inputs: ReceiveInput[] = [];
  const { actor, answers } = harness(async (input) => {
    inputs.push(input);
    return [message(`m${inputs.length}`)];
  });
  actor.send({ type: 'ASK' });
  await idle();
  actor.send({ type: 'ASK' });
  await idle();
  t.deepEqual(inputs, [
    { maxMessages: 7, waitSeconds: 20 },
    { maxMessages: 7, waitSeconds: 20 },
  ]);
  t.deepEqual(answers, [
    { type: 'RECEIVED', output: [message('m1')] },
    { type: 'RECEIVED', output: [message('m2')] },
  ]);
});

test('a failed call, rejected or thrown, is answered as RECEIVE_FAILED with its error', async (t) => {
  const failures = [new Error('endpoint down'), new TypeError('thrown before any promise')];
  let calls = 0;
  const { actor, answers } = harness((): Promise<QueueMessage[]> => {
    calls += 1;
    if (calls === 1) return Promise.reject(failures[0]);
    throw failures[1];
  });
  actor.send({ type: 'ASK' });
  await idle();
  actor.send({ type: 'ASK' });
  await idle();
  t.deepEqual(
    answers.map((a) => [a.type, a.error]),
    [
      ['RECEIVE_FAILED', failures[0]],
      ['RECEIVE_FAILED', failures[1]],
    ],
  );
  const receiver = actor.getSnapshot().children.receiver as { getSnapshot(): { status: string } } | undefined;
  t.is(receiver?.getSnapshot().status, 'active', 'the receiver lives on');
});

test('stopping the receiver aborts the call in flight, and its late answer is dropped', async (t) => {
  let signal: AbortSignal | undefined;
  let answerLate!: (messages: QueueMessage[]) => void;
  const { actor, answers } = harness((_, s) => {
    signal = s;
    return new Promise((resolve) => (answerLate = resolve));
  });
  actor.send({ type: 'ASK' });
  await idle();
  t.false(signal?.aborted);
  actor.stop();
  t.true(signal?.aborted, 'aborted when its poller stops');
  answerLate([message('late')]);
  await idle();
  t.deepEqual(answers, [], 'nothing sent after the stop');
});

test('a RECEIVE while one is in flight replaces it: the first is aborted and only the second is answered', async (t) => {
  const calls: Array<{ signal: AbortSignal; resolve: (messages: QueueMessage[]) => void }> = [];
  const { actor, answers } = harness((_, signal) => new Promise((resolve) => calls.push({ signal, resolve })));
  actor.send({ type: 'ASK' });
  actor.send({ type: 'ASK' });
  await idle();
  t.true(calls[0].signal.aborted);
  t.false(calls[1].signal.aborted);
  calls[0].resolve([message('first')]);
  calls[1].resolve([message('second')]);
  await idle();
  t.deepEqual(answers, [{ type: 'RECEIVED', output: [message('second')] }]);
});
