import test, { type ExecutionContext } from 'ava';
import pino from 'pino';
import type { Report } from '../../machines/types.ts';
import type { Visit } from '../../src/contract/visit.ts';
import type { VisitTypeDefinition } from '../../src/contract/visit-types.ts';
import { loadConfig } from '../../src/processor/config/config.ts';
import type { Tuning } from '../../src/processor/config/tuning.ts';
import { startProcessor } from '../../src/processor/processor.ts';
import type { StoragePort } from '../../machines/ports.ts';
import { OutageProxy } from '../chaos/proxy.ts';
import { makeBurst, sendBurst } from '../../scripts/support/burst.ts';
import { seededRandom } from '../../scripts/support/random.ts';
import { createRecordingStorage } from '../support/recording-storage.ts';
import { queueDepth, startTestEndpoint, startTestProcessor, type TestEndpointOptions, waitFor, endpointWithBurst } from '../support/sqs.ts';
import { capturedLogger } from '../support/captured-logger.ts';

const port = (endpoint: string) => Number(new URL(endpoint).port);

/** `event`, or a failure naming it once `ms` have passed without it (a guard, not a wait). */
function within<T>(event: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms)));
  return Promise.race([event, guard]).finally(() => clearTimeout(timer));
}

/** A test endpoint and a proxy in front of it that the test can freeze; both stopped at the end. */
async function behindProxy(t: ExecutionContext, options?: TestEndpointOptions) {
  const sqs = await startTestEndpoint(options);
  const proxy = await OutageProxy.start(port(sqs.endpoint));
  t.teardown(async () => {
    await proxy.down();
    await sqs.stop();
  });
  return { sqs, proxy };
}

/** Tight deadlines so the test is short; the behaviour is the same at the defaults. */
const DEADLINES: Partial<Tuning> = {
  receiveDeadlineMarginMs: 1_000,
  sqsCallTimeoutMs: 1_500,
  sqsConnectTimeoutMs: 1_000,
  healthMaxSilenceSeconds: 21,
};

test('a half-open network freeze: calls hit their deadlines, new connections are opened, the burst drains after the thaw', async (t) => {
  const { sqs, proxy } = await behindProxy(t, { visibilityTimeoutSeconds: 5 });
  const burst = makeBurst(1_000, 0, seededRandom(91));
  await sendBurst(sqs.client, sqs.queueUrl, burst);
  const storage = createRecordingStorage({ delayMs: 2 });
  const reports: Report[] = [];
  const receiveTimedOut = (r: Report) => r.kind === 'receive-failed' && String((r.error as Error).name) === 'DeadlineError';
  let frozen = false;
  let frozenReceiveFailed: () => void = () => {};
  const deadlineHit = new Promise<void>((resolve) => (frozenReceiveFailed = resolve));
  const processor = startTestProcessor(
    { endpoint: `http://127.0.0.1:${proxy.port}`, queueUrl: sqs.queueUrl, dlqUrl: sqs.dlqUrl },
    storage,
    { RECEIVE_WAIT_SECONDS: '1', BATCH_SIZE: '10', POLLERS: '2', VISIBILITY_TIMEOUT_SECONDS: '5' },
    (r) => {
      reports.push(r);
      if (frozen && receiveTimedOut(r)) frozenReceiveFailed();
    },
    DEADLINES,
  );
  await waitFor(() => storage.rows.size >= 100, 30_000, 'first writes');
  proxy.freeze();
  frozen = true;
  // Frozen until a receive has failed at its deadline: the event the freeze is for, not a wait.
  await within(deadlineHit, 20_000, 'receive failing at its deadline while frozen');
  const timedOut = reports.filter(receiveTimedOut).length;
  proxy.thaw();
  await waitFor(async () => storage.rows.size === burst.length, 60_000, 'the burst to drain after the thaw');
  processor.stop();
  t.deepEqual(await processor.done, { status: 'stopped' });
  t.true(timedOut > 0, 'frozen receives failed at their deadline');
  t.deepEqual(await queueDepth(sqs.client, sqs.queueUrl), { visible: 0, invisible: 0 });
  t.is(storage.rows.size, burst.length, 'nothing lost');
});

test('an endpoint silent at start: one line naming it within the deadline, retries, then runs when it answers', async (t) => {
  const { sqs, proxy } = await behindProxy(t);
  const burst = makeBurst(200, 0, seededRandom(92));
  await sendBurst(sqs.client, sqs.queueUrl, burst);
  proxy.freeze();
  const { lines, logger } = capturedLogger<{ msg: string; endpoint?: string; attempt?: number; err?: { type: string; message: string } }>('info');
  const storage = createRecordingStorage();
  const via = `http://127.0.0.1:${proxy.port}`;
  const processor = startProcessor({
    config: loadConfig({ RECEIVE_WAIT_SECONDS: '1', POLLERS: '2' }, DEADLINES),
    endpoint: via,
    queueUrl: sqs.queueUrl,
    storage,
    logger,
  });
  await waitFor(() => lines.some((l) => l.msg.includes('did not answer at start')), 10_000, 'the start-up warning');
  const warning = lines.find((l) => l.msg.includes('did not answer at start'))!;
  t.is(warning.endpoint, via, 'the line names the endpoint');
  // Within the deadline: the first attempt's own deadline (1.5 s) is what ended it and brought the line.
  t.is(warning.attempt, 1, 'after the first attempt');
  t.is(warning.err?.type, 'DeadlineError');
  t.regex(warning.err?.message ?? '', /got no answer within 1500 ms/);
  t.is(processor.actor.getSnapshot().value, 'starting');
  proxy.thaw();
  await waitFor(() => storage.rows.size === burst.length, 60_000, 'the burst after the endpoint answered');
  processor.stop();
  t.deepEqual(await processor.done, { status: 'stopped' });
});

test('tuning.startupMaxAttempts: an endpoint that never answers makes the processor fail after that many tries', async (t) => {
  const { sqs, proxy } = await behindProxy(t);
  proxy.freeze();
  const processor = startProcessor({
    config: loadConfig({ RECEIVE_WAIT_SECONDS: '1' }, { ...DEADLINES, sqsCallTimeoutMs: 300, sqsConnectTimeoutMs: 300, startupMaxAttempts: 2 }),
    endpoint: `http://127.0.0.1:${proxy.port}`,
    queueUrl: sqs.queueUrl,
    storage: createRecordingStorage(),
    logger: pino({ level: 'silent' }),
  });
  const output = await processor.done;
  t.is(output.status, 'failed');
  t.regex(String(output.error), /did not answer in 2 attempt/);
});

test('storage that hangs and ignores the abort signal: writes are abandoned at WRITE_TIMEOUT_MS, retried, nothing lost', async (t) => {
  const { sqs, burst } = await endpointWithBurst(t, 500, 93, { visibilityTimeoutSeconds: 5 });
  const recording = createRecordingStorage();
  let hung = 0;
  // The first 6 calls never return and never look at their signal, as many drivers do.
  const storage: StoragePort = {
    backend: 'hanging',
    writeBatch(type: VisitTypeDefinition, visits: readonly Visit[], signal: AbortSignal) {
      if (hung < 6) {
        hung += 1;
        return new Promise<void>(() => {});
      }
      return recording.writeBatch(type, visits, signal);
    },
  };
  const reports: Report[] = [];
  const processor = startTestProcessor(
    sqs,
    storage,
    { BATCH_SIZE: '20', WRITE_TIMEOUT_MS: '300', VISIBILITY_TIMEOUT_SECONDS: '5' },
    (r) => void reports.push(r),
    { retryBaseMs: 10, retryMaxMs: 100 },
  );
  await waitFor(() => recording.rows.size === burst.length, 60_000, 'every visit written');
  processor.stop();
  t.deepEqual(await processor.done, { status: 'stopped' });
  t.is(hung, 6);
  t.is(reports.filter((r) => r.kind === 'write-abandoned').length, 6, 'each hung write abandoned and reported');
  t.is(processor.stats.abandonedWrites, 6, 'and counted');
  t.true(
    reports.some((r) => r.kind === 'write-failed' && r.willRetry && (r.error as Error).name === 'DeadlineExceeded'),
    'the batch took the retry path',
  );
  t.deepEqual(await queueDepth(sqs.client, sqs.queueUrl), { visible: 0, invisible: 0 });
  for (const [id, n] of recording.writes) t.is(n, 1, `${id} written once`);
});
