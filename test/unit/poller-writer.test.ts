/** Pollers (credits, backoff, routing, dead-lettering) and writers (size, linger, credits) on a simulated clock. */
import test from 'ava';
import { createActor, fromPromise, setup, SimulatedClock, assign } from 'xstate';
import { batchMachine } from '../../machines/batch.ts';
import { pollerMachine } from '../../machines/poller.ts';
import { receiverOf } from '../../machines/receiver.ts';
import {
  writerSystemId,
  type DeadLetterResult,
  type Delivery,
  type EntryResult,
  type Lease,
  type QueueMessage,
  type RejectedMessage,
  type Report,
} from '../../machines/types.ts';
import { writerMachine } from '../../machines/writer.ts';
import type { VisitTypeName } from '../../src/contract/visit-types.ts';
import { idle } from '../support/idle.ts';
import { writerSettings } from '../support/writer-settings.ts';

const now = 1_764_000_000_000;
const message = (i: number, body: string): QueueMessage => ({ messageId: `m${i}`, receiptHandle: `r${i}`, body, receiveCount: 1 });

/** `freeCredits`: the pool always has a receive's credits free, so the poller takes them without waiting. */
function pollerHarness(receive: (call: number) => Promise<QueueMessage[]>, credits = 10, freeCredits = false) {
  const clock = new SimulatedClock();
  const reports: Report[] = [];
  const released: number[] = [];
  const deadLettered: RejectedMessage[][] = [];
  const routed: Delivery[] = [];
  let calls = 0;
  const poller = pollerMachine.provide({
    actors: {
      acquireCredits: fromPromise(async () => credits),
      receiveMessages: receiverOf(async () => receive(++calls)),
      deadLetter: fromPromise(async ({ input }: { input: { rejected: readonly RejectedMessage[] } }): Promise<DeadLetterResult> => {
        deadLettered.push([...input.rejected]);
        return { sent: input.rejected.map((r) => ({ messageId: r.message.messageId, reasonKept: 'full' as const })), notSent: [], notDeleted: [] };
      }),
      release: fromPromise(async (): Promise<EntryResult> => ({ failed: [] })),
    },
    actions: {
      report: (_, r: Report) => void reports.push(r),
      returnCredits: (_, n: number) => void released.push(n),
      takeCredits: assign({ holding: ({ context }) => context.holding + credits }),
    },
    guards: { creditsFree: () => freeCredits },
  });
  // A parent that registers a stand-in writer for each type, as the supervisor does.
  const fakeWriter = setup({ types: { events: {} as { type: 'VISITS'; deliveries: readonly Delivery[] } } }).createMachine({
    on: { VISITS: { actions: ({ event }) => void routed.push(...event.deliveries) } },
  });
  const parent = setup({ actors: { poller, fakeWriter } }).createMachine({
    entry: assign(({ spawn }) => {
      spawn('fakeWriter', { systemId: writerSystemId('type-in') });
      spawn('fakeWriter', { systemId: writerSystemId('referrer') });
      spawn('poller', {
        id: 'p',
        input: { id: 'poller-1', settings: { maxMessages: 10, waitSeconds: 20, backoffBaseMs: 1_000, backoffMaxMs: 8_000, stopGraceMs: 500 } },
      });
      return {};
    }),
  });
  const actor = createActor(parent, { clock });
  return { clock, reports, released, deadLettered, routed, actor, calls: () => calls };
}

test('receive errors back off with growing delays, logged, and polling resumes on its own', async (t) => {
  const { clock, reports, routed, actor, calls } = pollerHarness(async (call) => {
    if (call <= 4) throw new Error('endpoint down');
    if (call === 5) return [message(1, JSON.stringify({ type: 'referrer', created_at: now, url: 'test.com' }))];
    return new Promise(() => {});
  });
  actor.start();
  for (let i = 0; i < 40 && calls() < 5; i++) {
    await idle();
    clock.increment(500);
  }
  await idle();
  const failures = reports.filter((r) => r.kind === 'receive-failed');
  t.is(failures.length, 4);
  const delays = failures.map((r) => (r.kind === 'receive-failed' ? r.delayMs : 0));
  for (let i = 1; i < delays.length; i++) t.true(delays[i] >= delays[i - 1], `delays grow: ${delays.join(', ')}`);
  t.true(delays[3] >= 4_000);
  t.is(routed.length, 1, 'recovered without a restart');
});

test('valid visits go to their writer, invalid ones to the DLQ with their reason; credits follow', async (t) => {
  const batch = [
    message(1, JSON.stringify({ type: 'direct', created_at: now, ip: '10.0.0.1' })),
    message(2, JSON.stringify({ type: 'referrer', created_at: now, url: 'test.com' })),
    message(3, 'not json'),
    message(4, JSON.stringify({ type: 'nope', created_at: now })),
  ];
  const { released, deadLettered, routed, actor } = pollerHarness(async (call) => (call === 1 ? batch : new Promise(() => {})));
  actor.start();
  await idle();
  t.deepEqual(
    routed.map((d) => [d.messageId, d.visit.type]),
    [
      ['m1', 'type-in'],
      ['m2', 'referrer'],
    ],
  );
  t.deepEqual(
    deadLettered.flat().map((r) => [r.message.messageId, r.rejection.code]),
    [
      ['m3', 'malformed_json'],
      ['m4', 'invalid_type'],
    ],
  );
  // 10 credits taken: 6 unused back at once, 2 after dead-lettering, 2 travel with the visits.
  t.deepEqual(released, [6, 2]);
});

test('with credits free, a poller with no dead-letterer to hand them to dead-letters rejected messages itself before its next receive', async (t) => {
  const batch = [message(1, JSON.stringify({ type: 'direct', created_at: now, ip: '10.0.0.1' })), message(2, 'not json')];
  const { released, deadLettered, routed, actor, calls } = pollerHarness(async (call) => (call === 1 ? batch : new Promise(() => {})), 10, true);
  actor.start();
  await idle();
  t.deepEqual(
    routed.map((d) => d.messageId),
    ['m1'],
  );
  t.deepEqual(
    deadLettered.flat().map((r) => [r.message.messageId, r.rejection.code]),
    [['m2', 'malformed_json']],
  );
  // 8 unused back at once; the rejected one's credit and the next receive's 10 taken at once come back after dead-lettering.
  t.deepEqual(released, [8, 11]);
  const poller = actor.getSnapshot().children.p as { getSnapshot(): { value: object } };
  t.is(Object.keys(poller.getSnapshot().value)[0], 'receiving', 'receiving again');
  t.is(calls(), 2, 'no receive started before the dead-lettering: its answer would have had no state to take it');
});

test('a poller without credits does not receive (paused)', async (t) => {
  const clock = new SimulatedClock();
  let receives = 0;
  const poller = pollerMachine.provide({
    actors: {
      acquireCredits: fromPromise(() => new Promise<number>(() => {})),
      receiveMessages: receiverOf(async (): Promise<QueueMessage[]> => {
        receives += 1;
        return [];
      }),
    },
  });
  const actor = createActor(poller, {
    clock,
    input: { id: 'p', settings: { maxMessages: 10, waitSeconds: 20, backoffBaseMs: 1, backoffMaxMs: 1, stopGraceMs: 500 } },
  }).start();
  await idle();
  clock.increment(60_000);
  await idle();
  t.is(receives, 0);
  t.is(actor.getSnapshot().value, 'paused');
  actor.send({ type: 'STOP' });
  t.is(actor.getSnapshot().status, 'done');
});

function deliveries(from: number, n: number): Delivery[] {
  return Array.from({ length: n }, (_, i) => ({
    visit: { visitId: `v${from + i}`, type: 'referrer', createdAt: now, url: 'test.com' },
    messageId: `m${from + i}`,
    receiptHandle: `r${from + i}`,
    receiveCount: 1,
  }));
}

function writerHarness() {
  const clock = new SimulatedClock();
  const writes: Array<{ at: number; ids: string[] }> = [];
  const released: number[] = [];
  const batch = batchMachine.provide({
    actors: {
      writeBatch: fromPromise(async ({ input }: { input: { type: VisitTypeName; deliveries: readonly Delivery[] } }) => {
        writes.push({ at: clock.now(), ids: input.deliveries.map((d) => d.messageId) });
      }),
      acknowledge: fromPromise<EntryResult, { leases: readonly Lease[] }>(async () => ({ failed: [] })),
    },
  });
  const writer = writerMachine.provide({ actors: { batch }, actions: { returnCredits: (_, n: number) => void released.push(n) } });
  const settings = writerSettings({ batchSize: 4, lingerMs: 50 });
  const actor = createActor(writer, { clock, input: { type: 'referrer', settings } });
  return { clock, writes, released, actor };
}

test('a writer flushes on size at once and on linger time from the first buffered visit', async (t) => {
  const { clock, writes, released, actor } = writerHarness();
  actor.start();
  actor.send({ type: 'VISITS', deliveries: deliveries(1, 6) });
  await idle();
  t.deepEqual(writes, [{ at: 0, ids: ['m1', 'm2', 'm3', 'm4'] }], 'a full batch goes at once');
  clock.increment(30);
  actor.send({ type: 'VISITS', deliveries: deliveries(7, 1) });
  await idle();
  t.is(writes.length, 1, 'the remainder lingers');
  clock.increment(20);
  await idle();
  t.deepEqual(writes[1], { at: 50, ids: ['m5', 'm6', 'm7'] }, 'linger counted from the first buffered visit');
  t.deepEqual(released, [4, 3], 'credits returned per acknowledged batch');
  const { buffer, batches } = actor.getSnapshot().context;
  t.deepEqual({ buffer, batches }, { buffer: [], batches: [] }, 'the writer holds nothing: no visit buffered, no batch running');
  t.deepEqual(Object.keys(actor.getSnapshot().children), [], 'finished batches are freed, not kept with their deliveries');
});

test('a draining writer flushes what it buffers and stops when every batch is done', async (t) => {
  const { writes, actor } = writerHarness();
  actor.start();
  actor.send({ type: 'VISITS', deliveries: deliveries(1, 2) });
  actor.send({ type: 'DRAIN' });
  await idle();
  t.deepEqual(
    writes.map((w) => w.ids),
    [['m1', 'm2']],
  );
  t.is(actor.getSnapshot().status, 'done');
});
