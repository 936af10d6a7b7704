/**
 * What a person at a terminal reads: the storage line per level, written batches as short
 * grouped lines, the stats line per interval, errors as one line.
 */
import test from 'ava';
import { CreditPool } from '../../machines/credit-pool.ts';
import { visitType } from '../../src/contract/visit-types.ts';
import { oneLineError } from '../../src/platform/logger.ts';
import { createStats } from '../../src/processor/runtime/report.ts';
import { splitInFlight, statsFields, totalsOf } from '../../src/processor/runtime/stats-log.ts';
import { createStorage } from '../../src/processor/storage/index.ts';
import { WrittenLines } from '../../src/processor/runtime/written-lines.ts';
import { capturedLogger } from '../support/captured-logger.ts';

const visits = [
  { visitId: 'a', type: 'type-in' as const, createdAt: 1, ip: '10.0.0.1' },
  { visitId: 'b', type: 'type-in' as const, createdAt: 2 },
];

async function storageLines(level: string, terminal: boolean) {
  const { lines, logger } = capturedLogger(level);
  await createStorage('mysql', logger, { terminal }).writeBatch(visitType('type-in'), visits, new AbortController().signal);
  await new Promise((resolve) => setImmediate(resolve));
  return lines;
}

test('the storage line: at info with its rows in JSON logs; on a terminal only at debug, rows included', async (t) => {
  const json = await storageLines('info', false);
  t.is(json.length, 1);
  t.like(json[0], { msg: 'write', level: 30, table: 'traffic_type_in' });
  t.is((json[0].rows as unknown[]).length, 2);

  t.deepEqual(await storageLines('info', true), [], 'no rows at info on a terminal');

  const debug = await storageLines('debug', true);
  t.is(debug.length, 1);
  t.like(debug[0], { msg: 'write', level: 20, table: 'traffic_type_in' });
  t.deepEqual(
    (debug[0].rows as Array<{ visit_id: string }>).map((r) => r.visit_id),
    ['a', 'b'],
  );
});

test('a type’s first written batch is one line at once, with its type, rows and latency', (t) => {
  const lines = new WrittenLines(1_000);
  t.deepEqual(lines.written('referrer', 4, [9_900, 9_965], 10_000), ['written: 4 referrer visits, latency 35–100 ms']);
  t.deepEqual(lines.written('type-in', 1, [9_990], 10_000), ['written: 1 type-in visit, latency 10 ms']);
  t.is(lines.nextDue(), undefined, 'nothing waits to be printed');
});

test('batches within a second of a printed line are one line when the second ends; a steady flow prints one line per type per second', (t) => {
  const lines = new WrittenLines(1_000);
  const printed: string[] = [];
  // 1,000 visits at 100/s in batches of 3 or 4, alternating types: about 300 batches over 10 s.
  let now = 0;
  let sent = 0;
  for (let i = 0; sent < 1_000; i++) {
    now += 33;
    const count = i % 2 === 0 ? 3 : 4;
    sent += count;
    printed.push(...lines.written(i % 2 === 0 ? 'type-in' : 'referrer', count, [now - 40, now - 5], now));
  }
  printed.push(...lines.flush());
  const rows = (type: string) => printed.filter((l) => l.includes(` ${type} visit`)).reduce((total, l) => total + Number(/written: (\d+)/.exec(l)![1]), 0);
  t.is(rows('type-in') + rows('referrer'), sent, 'every row counted once');
  t.true(printed.length <= 2 * 11 + 2, `${printed.length} lines for ${sent} visits over ${now} ms`);
  t.regex(printed[2], /^written: \d+ (type-in|referrer) visits in \d+ batches, latency 5–40 ms$/);
});

test('a group is printed when its second ends, and the type then groups for another second; an idle type prints its next batch at once', (t) => {
  const lines = new WrittenLines(1_000);
  lines.written('referrer', 2, [0], 0);
  t.deepEqual(lines.written('referrer', 3, [400], 500), []);
  t.is(lines.nextDue(), 1_000);
  t.deepEqual(lines.due(999), []);
  t.deepEqual(lines.due(1_000), ['written: 3 referrer visits in 1 batch, latency 100 ms']);
  t.deepEqual(lines.written('referrer', 1, [1_400], 1_500), [], 'still grouping: a line was just printed');
  t.deepEqual(lines.due(2_000), ['written: 1 referrer visit in 1 batch, latency 100 ms']);
  t.deepEqual(lines.due(3_000), [], 'an empty window closes');
  t.deepEqual(lines.written('referrer', 1, [5_000], 5_000), ['written: 1 referrer visit, latency 0 ms']);
});

test('stats: every counter is per interval', (t) => {
  const stats = createStats();
  let last = totalsOf(stats);
  stats.received = 10;
  stats.written = { 'type-in': 6, referrer: 3 };
  stats.deadLettered = { invalid_json: 1 };
  stats.retries = 2;
  stats.released = 1;
  stats.pollErrors = 4;
  const first = statsFields(last, totalsOf(stats), 10, new Map());
  t.like(first, { received: 10, written: 9, writtenPerSecond: 1, deadLettered: 1, retries: 2, released: 1, pollErrors: 4, intervalSeconds: 10 });
  last = totalsOf(stats);
  stats.received += 5;
  stats.written['type-in'] += 5;
  const second = statsFields(last, totalsOf(stats), 10, new Map());
  t.like(second, { received: 5, written: 5, deadLettered: 0, retries: 0, released: 0, pollErrors: 0 });
});

test('stats: idle pollers reserve receive slots without holding a message; a writer’s credits are messages held', (t) => {
  const pool = new CreditPool(100, () => 0);
  for (let i = 1; i <= 8; i++) pool.tryAcquire(10, 10, `poller-${i}`);
  t.is(pool.inFlight, 80);
  t.deepEqual(splitInFlight(pool.holders()), { messagesHeld: 0, receiveSlotsReserved: 80 });
  pool.transfer('poller-1', 'writer-referrer', 3);
  pool.giveBack(7, 'poller-1');
  t.deepEqual(splitInFlight(pool.holders()), { messagesHeld: 3, receiveSlotsReserved: 70 });
});

test('an error on a terminal is one line: type, code, message, HTTP status and causes, no stack', (t) => {
  const cause = new Error('socket hang up');
  const error = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4566', { cause }), {
    code: 'ECONNREFUSED',
    $metadata: { httpStatusCode: 503 },
  });
  t.is(oneLineError(error), 'Error: connect ECONNREFUSED 127.0.0.1:4566 (HTTP 503); caused by socket hang up');
  const timeout = Object.assign(new Error('request\ntook too long'), { name: 'TimeoutError', code: 'ETIMEDOUT' });
  t.is(oneLineError(timeout), 'TimeoutError ETIMEDOUT: request took too long');
  t.is(oneLineError(new AggregateError([new Error('a'), new Error('b')], '')), 'AggregateError: a; b');
  t.is(oneLineError('not an error'), 'not an error');
});
