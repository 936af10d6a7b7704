/** The cap on a table's storage calls out, abandoned ones included, and when the table pauses and resumes. */
import test from 'ava';
import { PENDING_CALLS_PER_WRITE_SLOT, StorageCalls, type PauseChange } from '../../src/processor/storage/calls.ts';

const never = new AbortController().signal;
const timeout = () => new Error('no room');

test('the cap is a multiple of the write slots; calls start at once below it', async (t) => {
  const calls = new StorageCalls(3);
  t.is(calls.cap, 3 * PENDING_CALLS_PER_WRITE_SLOT);
  const ticket = await calls.enter(1_000, never, timeout);
  t.is(calls.running, 1);
  ticket.returned();
  ticket.returned();
  t.is(calls.running, 0, 'a ticket gives its room back once');
});

test('abandoned calls keep their room until they settle: at the cap no call starts and the table pauses, then resumes at one per slot', async (t) => {
  const changes: PauseChange[] = [];
  const calls = new StorageCalls(2, (change) => changes.push(change));
  const tickets = [];
  for (let i = 0; i < calls.cap; i++) {
    const ticket = await calls.enter(1_000, never, timeout);
    ticket.abandoned();
    tickets.push(ticket);
  }
  t.is(calls.abandoned, 4);
  t.true(calls.paused);
  t.deepEqual(changes, [{ paused: true, abandoned: 4, cap: 4 }]);
  await t.throwsAsync(calls.enter(30, never, timeout), { message: 'no room' }, 'no room while every call is out');
  // A waiter is woken by the first abandoned call that returns.
  const waiting = calls.enter(1_000, never, timeout);
  tickets[0]!.settled();
  const next = await waiting;
  t.is(calls.running, 1);
  t.is(calls.abandoned, 3);
  t.true(calls.paused, 'still paused: more abandoned calls than write slots');
  tickets[1]!.settled();
  t.false(calls.paused, 'resumed: every write slot can run again');
  t.deepEqual(changes.at(-1), { paused: false, abandoned: 2, cap: 4 });
  next.abandoned();
  next.settled();
  next.settled();
  t.is(calls.abandoned, 2, 'a ticket settles once');
});

test('running and abandoned calls together never exceed the cap, however many wait', async (t) => {
  const calls = new StorageCalls(2);
  const first = await Promise.all([0, 1, 2].map(() => calls.enter(1_000, never, timeout)));
  for (const ticket of first) ticket.abandoned();
  const waiters = [0, 1, 2].map(() => calls.enter(1_000, never, timeout));
  const started = await waiters[0]!;
  t.is(calls.running + calls.abandoned, calls.cap);
  first[0]!.settled();
  await waiters[1];
  t.is(calls.running + calls.abandoned, calls.cap, 'one returned, one started: still at the cap');
  started.returned();
  await waiters[2];
  t.is(calls.running + calls.abandoned, calls.cap);
});

test('a waiter leaves when its signal aborts', async (t) => {
  const calls = new StorageCalls(1);
  for (let i = 0; i < calls.cap; i++) (await calls.enter(1_000, never, timeout)).abandoned();
  const controller = new AbortController();
  const waiting = calls.enter(10_000, controller.signal, timeout);
  controller.abort(new Error('batch stopped'));
  await t.throwsAsync(waiting, { message: 'batch stopped' });
});
