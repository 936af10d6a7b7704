/** The credit ledger: credits booked by owner, moved with the visits, returned by owner when it is gone. */
import test from 'ava';
import { CreditPool } from '../../machines/credit-pool.ts';

test('credits follow their owner and a crashed owner returns its whole balance by id', async (t) => {
  const pool = new CreditPool(30, Date.now);
  t.is(await pool.acquire(10, undefined, 10, 'poller-1'), 10);
  t.is(await pool.acquire(10, undefined, 10, 'poller-2'), 10);
  pool.transfer('poller-1', 'writer-referrer', 6);
  pool.giveBack(4, 'poller-1');
  t.is(pool.heldBy('poller-1'), 0);
  t.is(pool.heldBy('writer-referrer'), 6);
  t.is(pool.inFlight, 16);
  t.is(pool.giveBackAll('writer-referrer'), 6, 'the crashed writer returns what it held');
  t.is(pool.giveBackAll('poller-2'), 10);
  t.is(pool.inFlight, 0);
});

test('a release repeated after its owner was settled cannot inflate the pool', async (t) => {
  const pool = new CreditPool(20, Date.now);
  await pool.acquire(10, undefined, 10, 'writer-type-in');
  await pool.acquire(10, undefined, 10, 'poller-1');
  t.is(pool.giveBackAll('writer-type-in'), 10);
  // A late release by the crashed writer (a batch finishing) must not give back poller-1's credits.
  pool.giveBack(10, 'writer-type-in');
  t.is(pool.available, 10);
  t.is(pool.heldBy('poller-1'), 10);
  pool.transfer('nobody', 'writer-type-in', 5);
  t.is(pool.heldBy('writer-type-in'), 0, 'nothing moves from an owner that holds nothing');
});

test('a waiter granted later is booked to its owner', async (t) => {
  const pool = new CreditPool(10, Date.now);
  await pool.acquire(10, undefined, 10, 'poller-1');
  const waiting = pool.acquire(10, undefined, 5, 'poller-2');
  pool.giveBack(5, 'poller-1');
  t.is(await waiting, 5);
  t.is(pool.heldBy('poller-2'), 5);
  t.is(pool.heldBy('poller-1'), 5);
});

test('heldSince: when an owner last went from no credits to some', async (t) => {
  let now = 1_000;
  const pool = new CreditPool(20, () => now);
  await pool.acquire(10, undefined, 10, 'poller-1');
  now = 2_000;
  pool.transfer('poller-1', 'writer-referrer', 5);
  t.is(pool.heldSince('writer-referrer'), 2_000);
  now = 3_000;
  pool.transfer('poller-1', 'writer-referrer', 5);
  t.is(pool.heldSince('writer-referrer'), 2_000, 'more work does not reset it');
  t.is(pool.heldSince('poller-1'), undefined, 'nothing held, no time');
  pool.giveBack(10, 'writer-referrer');
  now = 4_000;
  await pool.acquire(10, undefined, 10, 'writer-referrer');
  t.is(pool.heldSince('writer-referrer'), 4_000, 'a new stretch of work starts a new time');
});
