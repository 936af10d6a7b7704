/** The memory behind the reused-visit_id warning: it notices changed content for at least `capacity` recent ids, and stays bounded. */
import test from 'ava';
import { VisitIdMemory } from '../../src/processor/storage/reuse.ts';

const row = (id: string, createdAt: number) => ({ visit_id: id, created_at: createdAt, url: 'test.com' });
const others = (from: number, count: number) => Array.from({ length: count }, (_, i) => row(`other-${from + i}`, 1));

test('a visit_id seen again with other content is reported; with the same content it is not', (t) => {
  const memory = new VisitIdMemory(100);
  t.deepEqual(memory.record([row('a', 1), row('b', 1)]), []);
  t.deepEqual(memory.record([row('a', 1)]), [], 'same content: a redelivery');
  t.deepEqual(memory.record([row('a', 2), row('b', 1)]), ['a']);
  t.deepEqual(memory.record([row('c', 1), row('c', 2)]), ['c'], 'within one batch too');
});

test('an id is remembered across at least `capacity` others, whatever the generation boundaries', (t) => {
  for (const before of [0, 37, 99]) {
    const memory = new VisitIdMemory(100);
    memory.record(others(0, before));
    memory.record([row('x', 1)]);
    memory.record(others(1_000, 99));
    t.deepEqual(memory.record([row('x', 2)]), ['x'], `${before} ids before it`);
  }
});

test('memory is bounded: an id is forgotten after twice `capacity` others', (t) => {
  const memory = new VisitIdMemory(100);
  memory.record([row('x', 1)]);
  memory.record(others(0, 200));
  t.deepEqual(memory.record([row('x', 2)]), []);
});
