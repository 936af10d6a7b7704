/**
 * One table's storage hangs, ignoring its abort signal: the writes abandoned at WRITE_TIMEOUT_MS
 * that have not returned stay at their cap (2 x WRITE_CONCURRENCY) instead of piling up, the table
 * pauses (its visits deferred), the other type keeps flowing, and when the hung calls return the
 * table resumes and everything is written.
 */
import test from 'ava';
import type { Report } from '../../machines/types.ts';
import type { StoragePort } from '../../machines/ports.ts';
import type { Visit } from '../../src/contract/visit.ts';
import type { VisitTypeDefinition } from '../../src/contract/visit-types.ts';
import { createRecordingStorage } from '../support/recording-storage.ts';
import { makeBurst, sendBurst } from '../../scripts/support/burst.ts';
import { seededRandom } from '../../scripts/support/random.ts';
import { endpointWithBurst, queueDepth, startTestProcessor, waitFor } from '../support/sqs.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('abandoned writes of a hanging table stay at their cap; that table pauses, the other type flows, both finish after it returns', async (t) => {
  const { sqs, burst } = await endpointWithBurst(t, 600, 94, { visibilityTimeoutSeconds: 5, maxReceiveCount: 50 });
  const recording = createRecordingStorage();
  let hanging = true;
  let hungCalls = 0;
  const hung: Array<() => void> = [];
  // Referrer writes never return and never look at their signal while `hanging`, as a stuck driver does.
  const storage: StoragePort = {
    backend: 'hanging-referrer',
    writeBatch(type: VisitTypeDefinition, visits: readonly Visit[], signal: AbortSignal) {
      if (type.name === 'referrer' && hanging) {
        hungCalls += 1;
        return new Promise<void>((resolve) => hung.push(resolve));
      }
      return recording.writeBatch(type, visits, signal);
    },
  };
  const reports: Report[] = [];
  const processor = startTestProcessor(
    sqs,
    storage,
    {
      WRITE_CONCURRENCY: '2',
      BATCH_SIZE: '10',
      WRITE_TIMEOUT_MS: '300',
      WRITE_MAX_ATTEMPTS: '100',
      VISIBILITY_TIMEOUT_SECONDS: '5',
    },
    (r) => void reports.push(r),
    { retryBaseMs: 20, retryMaxMs: 100, deferSeconds: 1, healthMaxSilenceSeconds: 3, receiveDeadlineMarginMs: 1_000 },
  );
  t.teardown(() => processor.stop());
  const cap = 4;
  const typeIn = burst.filter((m) => m.table === 'traffic_type_in').map((m) => m.visitId!);
  // Six seconds of hanging: twenty write deadlines, enough for an unbounded pile to show.
  let most = 0;
  const until = Date.now() + 6_000;
  while (Date.now() < until) {
    most = Math.max(most, processor.stats.abandonedPendingOf.referrer ?? 0);
    await sleep(20);
  }
  t.log(`abandoned referrer writes pending: at most ${most} (cap ${cap}); storage calls made: ${hungCalls}`);
  t.is(most, cap, 'abandoned writes pending reached the cap and never passed it');
  t.is(hungCalls, cap, 'no storage call started beyond the cap');
  t.is(processor.stats.abandonedPendingOf['type-in'] ?? 0, 0);
  t.true(
    typeIn.every((id) => recording.rows.has(id)),
    'every type-in visit written while referrer storage hung',
  );
  const paused = reports.filter((r) => r.kind === 'storage-paused');
  t.deepEqual(paused, [{ kind: 'storage-paused', type: 'referrer', abandoned: cap, cap }], 'one pause, of the referrer table only');
  t.true(processor.stats.paused.referrer);
  // A table that stays paused holds visits and writes none: /healthz says so, and a restart can clear a stuck driver.
  const health = processor.health();
  t.false(health.ok);
  t.true(
    health.problems.some((p) => p.includes('referrer') && p.includes('has written none')),
    health.problems.join('; '),
  );
  t.false(
    health.problems.some((p) => p.includes('type-in')),
    'the other type is healthy',
  );
  // Visits arriving while the table is paused are deferred, as for a failing table.
  const late = makeBurst(100, 0, seededRandom(95));
  const pausedAt = reports.length;
  await sendBurst(sqs.client, sqs.queueUrl, late);
  await waitFor(
    () => reports.slice(pausedAt).some((r) => r.kind === 'deferred' && r.type === 'referrer' && r.degraded),
    10_000,
    'visits arriving at the paused table to be deferred',
  );
  const lateReferrers = late.filter((m) => m.table === 'traffic_referrer').length;
  t.true(lateReferrers > 0);

  hanging = false;
  for (const resolve of hung.splice(0)) resolve();
  await waitFor(() => reports.some((r) => r.kind === 'storage-resumed'), 5_000, 'the table to resume');
  t.false(processor.stats.paused.referrer);
  const everything = burst.length + late.length;
  await waitFor(() => recording.rows.size === everything, 60_000, 'every visit written after the hung calls returned');
  processor.stop();
  t.deepEqual(await processor.done, { status: 'stopped' });
  t.is(processor.stats.abandonedPending, 0, 'every abandoned call settled');
  t.deepEqual(await queueDepth(sqs.client, sqs.queueUrl), { visible: 0, invisible: 0 });
  t.deepEqual(await queueDepth(sqs.client, sqs.dlqUrl), { visible: 0, invisible: 0 }, 'nothing dead-lettered');
});
