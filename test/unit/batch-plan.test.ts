/** The write plan on its own: retry budget, bisecting to the poison rows, and what becomes of each row. */
import test from 'ava';
import {
  afterExhausted,
  canRetry,
  current,
  held,
  initialPlan,
  nextGroup,
  type PlanSettings,
  retried,
  withoutLost,
  type WritePlan,
  written,
} from '../../machines/batch-plan.ts';
import type { Delivery } from '../../machines/types.ts';
import { deliveries } from '../support/deliveries.ts';

const settings: PlanSettings = { writeMaxAttempts: 3, deadLetterAfterReceives: 3 };

const ids = (list: readonly Delivery[]) => list.map((d) => d.messageId);

/** Runs the plan against a storage that refuses any write holding a row `refuses` names, as the batch machine does. */
function run(deliveries: readonly Delivery[], refuses: (d: Delivery) => boolean) {
  let plan: WritePlan = initialPlan(deliveries, settings);
  const writes: string[][] = [];
  const writtenRows: string[] = [];
  const steps: string[] = [];
  for (let guard = 0; plan.groups.length > 0 && guard < 1_000; guard++) {
    const group = current(plan);
    writes.push(ids(group));
    if (!group.some(refuses)) {
      writtenRows.push(...ids(group));
      plan = nextGroup(written(plan), settings);
    } else if (canRetry(plan)) {
      plan = retried(plan);
    } else {
      const next = afterExhausted(plan, new Error('Data too long for column'), settings);
      steps.push(next.step.kind);
      plan = next.plan;
    }
  }
  return { plan, writes, written: writtenRows, steps };
}

test('a batch that writes is written once, in one piece', (t) => {
  const { written, writes, plan } = run(deliveries(8), () => false);
  t.deepEqual(writes, [ids(deliveries(8))]);
  t.deepEqual(written, ids(deliveries(8)));
  t.deepEqual(held(plan), []);
});

test('one poison row among 8: bisected to it alone, its 7 neighbours written, it is released', (t) => {
  const poison = 'm5';
  const { written, writes, plan, steps } = run(deliveries(8), (d) => d.messageId === poison);
  t.deepEqual(written.sort(), ['m0', 'm1', 'm2', 'm3', 'm4', 'm6', 'm7']);
  t.deepEqual(ids(plan.toRelease), [poison]);
  t.deepEqual(plan.toDeadLetter, []);
  t.deepEqual(steps, ['split', 'split', 'split', 'set-aside']);
  // 3 attempts of the batch, then each piece once, depth first: [0-3] ok, [4-7] no, [4,5] no, [4] ok, [5] no, [6,7] ok.
  t.deepEqual(writes.slice(3), [['m0', 'm1', 'm2', 'm3'], ['m4', 'm5', 'm6', 'm7'], ['m4', 'm5'], ['m4'], ['m5'], ['m6', 'm7']]);
});

test('a poison row in the first half: the second half is tried before the first is split further', (t) => {
  const { writes, steps, plan } = run(deliveries(8), (d) => d.messageId === 'm1');
  t.deepEqual(writes.slice(3, 5), [
    ['m0', 'm1', 'm2', 'm3'],
    ['m4', 'm5', 'm6', 'm7'],
  ]);
  t.deepEqual(steps[0], 'split');
  t.deepEqual(steps[1], 'second-half');
  t.deepEqual(ids(plan.toRelease), ['m1']);
});

test('storage refusing every row: both halves fail, the batch is released whole, not split further', (t) => {
  const { written, writes, plan, steps } = run(deliveries(8), () => true);
  t.deepEqual(written, []);
  t.deepEqual(steps, ['split', 'second-half', 'refused-all']);
  t.is(writes.length, 3 + 2, 'the budget, then one try of each half');
  t.deepEqual(ids(plan.toRelease).sort(), ids(deliveries(8)).sort());
  t.regex(plan.restReason, /both halves of the batch failed/);
});

test('two poison rows in different halves: released whole at first', (t) => {
  const { plan, steps } = run(deliveries(8), (d) => d.messageId === 'm0' || d.messageId === 'm7');
  t.deepEqual(steps, ['split', 'second-half', 'refused-all']);
  t.is(plan.toRelease.length, 8);
});

test('at its last receive a poison row gets the whole budget alone, then goes to the DLQ with write_failed', (t) => {
  const { written, writes, plan, steps } = run(deliveries(4, 3), (d) => d.messageId === 'm2');
  t.deepEqual(written.sort(), ['m0', 'm1', 'm3']);
  t.deepEqual(plan.toRelease, []);
  t.deepEqual(
    plan.toDeadLetter.map((d) => [d.delivery.messageId, d.reason.code]),
    [['m2', 'write_failed']],
  );
  t.regex(plan.toDeadLetter[0].reason.message, /^storage refused the row: Error: Data too long for column$/);
  t.deepEqual(steps, ['split', 'split', 'last-receive', 'set-aside']);
  t.is(writes.filter((w) => w.length === 1 && w[0] === 'm2').length, 1 + settings.writeMaxAttempts, 'once as a piece, then the whole budget');
});

test('storage refusing every row at their last receive: split to single rows, each dead-lettered', (t) => {
  const { plan } = run(deliveries(5, 3), () => true);
  t.deepEqual(plan.toDeadLetter.map((d) => d.delivery.messageId).sort(), ids(deliveries(5)).sort());
  t.deepEqual(plan.toRelease, []);
});

test('a split halves a group, the first half the larger', (t) => {
  const plan = { ...initialPlan(deliveries(5), settings), attempt: settings.writeMaxAttempts };
  const { plan: next, step } = afterExhausted(plan, new Error('x'), settings);
  t.deepEqual(step, { kind: 'split', from: 5, into: [3, 2] });
  t.deepEqual(next.groups.map(ids), [
    ['m0', 'm1', 'm2'],
    ['m3', 'm4'],
  ]);
  t.is(next.attemptsAllowed, 1, 'a piece is tried once');
  t.is(next.halves, 'first-pending');
});

test('lost leases leave the plan; the current group stays in place, even empty', (t) => {
  const split = afterExhausted({ ...initialPlan(deliveries(4), settings), attempt: 3 }, new Error('x'), settings).plan;
  const plan = withoutLost(split, new Set(['m0', 'm1', 'm3']));
  t.deepEqual(plan.groups.map(ids), [[], ['m2']]);
  t.deepEqual(ids(held(plan)), ['m2']);
  const gone = withoutLost(split, new Set(['m2', 'm3']));
  t.deepEqual(gone.groups.map(ids), [['m0', 'm1']], 'an emptied later group is dropped');
  const { plan: after, step } = afterExhausted(gone, new Error('x'), settings);
  t.is(step.kind, 'second-half');
  t.deepEqual(after.groups.map(ids), [['m0', 'm1']], 'no second half left to try: the first again, once');
});
