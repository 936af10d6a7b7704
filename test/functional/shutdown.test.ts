/**
 * SIGTERM in the middle of a burst, on a real processor process: it drains, exits 0,
 * leaves nothing invisible, and what it did not write is still on the PIPELINE.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import test from 'ava';
import { createRecordingStorage } from '../support/recording-storage.ts';
import { queueDepth, startTestProcessor, waitFor, endpointWithBurst } from '../support/sqs.ts';

test('SIGTERM mid-burst: exit 0 within the grace period, nothing lost, nothing left invisible', async (t) => {
  const { sqs, burst } = await endpointWithBurst(t, 10_000, 11);

  const child = spawn(process.execPath, ['src/processor/main.ts'], {
    env: {
      ...process.env,
      AWS_ENDPOINT_URL: sqs.endpoint,
      TRAFFIC_QUEUE_URL: sqs.queueUrl,
      LOG_JSON: '1',
      POLLERS: '2',
      RECEIVE_WAIT_SECONDS: '1',
      BATCH_SIZE: '10',
      SHUTDOWN_GRACE_MS: '10000',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const written = new Set<string>();
  const releasedAtGraceEnd: unknown[] = [];
  let signalledAt = 0;
  for await (const line of createInterface({ input: child.stdout! })) {
    const entry = JSON.parse(line) as { msg: string; reason?: string; rows?: Array<{ visit_id: string }> };
    if (entry.msg === 'messages released back to the queue' && entry.reason === 'shutdown grace period over') releasedAtGraceEnd.push(entry);
    if (entry.msg !== 'write') continue;
    for (const row of entry.rows!) written.add(row.visit_id);
    if (!signalledAt && written.size >= 500) {
      signalledAt = Date.now();
      child.kill('SIGTERM');
    }
  }
  const exitCode = await new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve)));
  const drainMs = Date.now() - signalledAt;
  t.log(`stopped ${drainMs} ms after SIGTERM with ${written.size} of ${burst.length} written`);
  t.is(exitCode, 0);
  // The grace period is real time in a real process: the one bound here that a clock must check.
  t.true(signalledAt > 0 && drainMs < 10_000, 'exited within the grace period');
  // Within the grace period: the drain finished its writes, so nothing was released because the grace period ran out.
  t.deepEqual(releasedAtGraceEnd, [], 'nothing released at the end of the grace period');
  t.true(written.size < burst.length, 'the signal landed mid-burst');

  const depth = await queueDepth(sqs.client, sqs.queueUrl);
  t.is(depth.invisible, 0, 'nothing left invisible');
  t.is(depth.visible + written.size, burst.length, 'every unwritten visit is still on the PIPELINE');

  // A second processor drains the rest: the union is the whole burst.
  const storage = createRecordingStorage();
  const processor = startTestProcessor(sqs, storage);
  await waitFor(() => storage.rows.size >= depth.visible, 60_000, 'the rest of the burst');
  processor.stop();
  await processor.done;
  const all = new Set([...written, ...storage.rows.keys()]);
  t.is(all.size, burst.length);
  for (const message of burst) t.true(all.has(message.visitId!));
});
