/** A deadline is a race, not only a signal: a call that ignores its signal is abandoned on time. */
import test from 'ava';
import { DeadlineExceeded, withDeadline } from '../../src/processor/deadline.ts';

test('a call that ignores its signal and never settles is abandoned at the deadline and reported', async (t) => {
  let abandoned = 0;
  let seenSignal: AbortSignal | undefined;
  const started = Date.now();
  const error = await t.throwsAsync(
    withDeadline(
      (signal) => {
        seenSignal = signal;
        return new Promise<void>(() => {});
      },
      { ms: 50, what: 'write of 3 referrer visit(s)', onAbandoned: () => void abandoned++ },
    ),
  );
  t.true(error instanceof DeadlineExceeded, String(error));
  t.regex(error!.message, /write of 3 referrer visit\(s\) did not finish within 50 ms/);
  t.true(Date.now() - started < 5_000, 'returned without the call');
  t.true(seenSignal?.aborted, 'the call was told too');
  t.is(abandoned, 1);
});

test('an abandoned call that settles late is counted as settled and its error is dropped', async (t) => {
  let settled = 0;
  let fail!: (error: Error) => void;
  await t.throwsAsync(
    withDeadline(() => new Promise<void>((_, reject) => (fail = reject)), { ms: 20, what: 'write', onAbandonedSettled: () => void settled++ }),
    { instanceOf: DeadlineExceeded },
  );
  fail(new Error('late driver error'));
  await new Promise((resolve) => setImmediate(resolve));
  t.is(settled, 1);
});

test('a call that finishes in time returns its value; a failing one its own error', async (t) => {
  t.is(await withDeadline(async () => 42, { ms: 1_000, what: 'x' }), 42);
  await t.throwsAsync(
    withDeadline(async () => Promise.reject(new Error('storage down')), { ms: 1_000, what: 'x' }),
    { message: 'storage down' },
  );
});

test('the caller stopping abandons the call at once', async (t) => {
  const caller = new AbortController();
  let abandoned = 0;
  const running = withDeadline(() => new Promise<void>(() => {}), { ms: 60_000, signal: caller.signal, what: 'x', onAbandoned: () => void abandoned++ });
  caller.abort(new Error('actor stopped'));
  await t.throwsAsync(running, { message: 'actor stopped' });
  t.is(abandoned, 1);
});
