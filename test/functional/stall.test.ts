import test from 'ava';
import type { Visit } from '../../src/contract/visit.ts';
import type { VisitTypeDefinition } from '../../src/contract/visit-types.ts';
import { loadConfig } from '../../src/processor/config/config.ts';
import { startProcessor } from '../../src/processor/processor.ts';
import type { StoragePort } from '../../machines/ports.ts';
import { createRecordingStorage } from '../support/recording-storage.ts';
import { waitFor, endpointWithBurst } from '../support/sqs.ts';
import { capturedLogger } from '../support/captured-logger.ts';

test('a writer that holds visits and writes none is named in the stall warnings and fails health until it writes again', async (t) => {
  const { sqs, burst } = await endpointWithBurst(t, 400, 94, { visibilityTimeoutSeconds: 30 });
  const recording = createRecordingStorage();
  let storageBack: () => void = () => {};
  const back = new Promise<void>((resolve) => (storageBack = resolve));
  const storage: StoragePort = {
    backend: 'stalling',
    async writeBatch(type: VisitTypeDefinition, visits: readonly Visit[], signal: AbortSignal) {
      // Referrer writes hang (signal honoured) until the storage is back.
      if (type.name === 'referrer') {
        await Promise.race([back, new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }))]);
      }
      return recording.writeBatch(type, visits, signal);
    },
  };
  const { lines: warnings, logger } = capturedLogger<{ msg: string; time: number; problems?: string[] }>('warn');
  const processor = startProcessor({
    config: loadConfig(
      {
        POLLERS: '2',
        RECEIVE_WAIT_SECONDS: '1',
        WRITE_TIMEOUT_MS: '60000',
        // A 60 s write must fit inside its lease with a heartbeat and a margin to spare.
        VISIBILITY_TIMEOUT_SECONDS: '90',
        BATCH_SIZE: '20',
      },
      { receiveDeadlineMarginMs: 1_000, healthMaxSilenceSeconds: 3, stallWarnIntervalSeconds: 1, heartbeatSeconds: 10 },
    ),
    endpoint: sqs.endpoint,
    queueUrl: sqs.queueUrl,
    dlqUrl: sqs.dlqUrl,
    storage,
    logger,
  });
  const stalled = () => warnings.filter((w) => w.msg.startsWith('processor stalled'));
  await waitFor(() => stalled().length >= 2, 20_000, 'two stall warnings');
  const health = processor.health();
  t.false(health.ok);
  t.true(
    health.problems.some((p) => /^writer-referrer holds \d+ visit\(s\) and has written none for \d+ s$/.test(p)),
    health.problems.join('; '),
  );
  t.false(
    health.problems.some((p) => p.startsWith('writer-type-in')),
    'the healthy type is not named',
  );
  // One warning per interval, and none once health is back, are the monitor's rules (test/unit/stall-monitor.test.ts).
  t.true(stalled()[0].problems?.some((p) => p.startsWith('writer-referrer')));
  storageBack();
  await waitFor(() => recording.rows.size === burst.length, 30_000, 'the referrers once the storage answers');
  await waitFor(() => processor.health().ok, 10_000, 'health to recover');
  processor.stop();
  t.deepEqual(await processor.done, { status: 'stopped' });
});
