/**
 * The debugging aids. `--trace FILE` against a real SQS endpoint: the pollers' idle polls are left out by default,
 * the visit's path (the receive that brought it, the writer, the batch) stays; `--trace-all` keeps all.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import test from 'ava';
import pino from 'pino';
import { DEFAULT_AGENT_PORT } from '../../src/agent/config.ts';
import { parseDebugArgs, startInspection } from '../../src/processor/runtime/debug.ts';
import { createRecordingStorage } from '../support/recording-storage.ts';
import { capturedLogger } from '../support/captured-logger.ts';
import { freePort, startTestEndpoint, startTestProcessor, waitFor } from '../support/sqs.ts';

interface TraceLine {
  kind: string;
  actor?: string;
  event?: string;
  source?: string;
  action?: string;
}

/** Runs the processor with two traces (default and --trace-all) over idle polls, one visit, more idle polls and a stop. */
async function traceOneVisit(t: { teardown(fn: () => unknown): void }): Promise<{ filtered: TraceLine[]; all: TraceLine[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'traffic-trace-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const silent = pino({ level: 'silent' });
  const filtered = await startInspection(parseDebugArgs(['--trace', join(dir, 'filtered.jsonl')]), silent);
  const all = await startInspection(parseDebugArgs(['--trace', join(dir, 'all.jsonl'), '--trace-all']), silent);
  const sqs = await startTestEndpoint();
  t.teardown(() => sqs.stop());
  const storage = createRecordingStorage();
  const processor = startTestProcessor(sqs, storage, { RECEIVE_WAIT_SECONDS: '1' });
  // startTestProcessor takes no inspector: both traces see the supervisor's events from here on, like a run's.
  const inspect = (event: Parameters<NonNullable<typeof filtered.inspect>>[0]) => {
    filtered.inspect!(event);
    all.inspect!(event);
  };
  processor.actor.system.inspect({ next: inspect });
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  await sqs.client.send(
    new SendMessageCommand({
      QueueUrl: sqs.queueUrl,
      MessageBody: JSON.stringify({ type: 'referrer', created_at: Date.now(), url: 'test.com', visit_id: 'traced' }),
    }),
  );
  await waitFor(() => storage.rows.has('traced'), 30_000, 'the visit to be written');
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  processor.stop();
  await processor.done;
  await Promise.all([filtered.close(), all.close()]);
  const read = (file: string) =>
    readFileSync(join(dir, file), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as TraceLine);
  return { filtered: read('filtered.jsonl'), all: read('all.jsonl') };
}

test('the trace leaves out idle polls and keeps the visit’s path; --trace-all keeps every poll', async (t) => {
  const { filtered, all } = await traceOneVisit(t);
  const receives = (lines: TraceLine[]) => lines.filter((l) => l.kind === '@xstate.event' && l.event === 'RECEIVE');
  const received = (lines: TraceLine[]) => lines.filter((l) => l.kind === '@xstate.event' && l.event === 'RECEIVED' && l.actor?.startsWith('poller-'));

  t.true(receives(all).length >= 8, `${receives(all).length} polls started in the full trace`);
  t.true(received(all).length >= 8, `${received(all).length} poll answers in the full trace`);
  t.is(receives(filtered).length, 0, 'no poll start in the default trace');
  t.is(received(filtered).length, 1, 'only the answer that brought the visit');

  t.true(
    filtered.some((l) => l.kind === '@xstate.event' && l.actor === 'writer-referrer' && l.event === 'VISITS'),
    'the visit handed to its writer',
  );
  t.true(
    filtered.some((l) => l.kind === '@xstate.action' && l.action === 'transferCredits'),
    'actions are named',
  );
  t.true(
    filtered.some((l) => l.kind === '@xstate.actor' && l.actor?.startsWith('batch-referrer')),
    'the batch that wrote it',
  );
  t.is(filtered.filter((l) => l.kind === '@xstate.actor' && l.actor?.startsWith('poller-')).length, 4, 'each poller’s creation');
  t.is(filtered.filter((l) => l.kind === '@xstate.event' && l.event === 'STOP').length, 4, 'each poller told to stop');
  t.true(filtered.length < all.length / 2, `${filtered.length} lines in the default trace, ${all.length} in the full one`);
});

test('--trace-all needs --trace FILE', (t) => {
  t.throws(() => parseDebugArgs(['--trace-all']), { message: /--trace-all keeps every event of a trace: add --trace FILE/ });
  t.like(parseDebugArgs(['--trace-all', '--trace', 'x.jsonl']), { traceFile: 'x.jsonl', traceAll: true });
  t.like(parseDebugArgs(['--trace=x.jsonl']), { traceFile: 'x.jsonl', traceAll: false });
});

test("--inspect without a port does not take the port of npm start's agent entry", (t) => {
  const { inspectPort } = parseDebugArgs(['--inspect']);
  t.not(inspectPort, DEFAULT_AGENT_PORT);
  t.is(inspectPort, 8081);
});

test('the --inspect line says the page loads the inspector from stately.ai, needs internet, and points to --trace', async (t) => {
  const { lines, logger } = capturedLogger('info');
  const inspection = await startInspection(parseDebugArgs([`--inspect=${await freePort()}`]), logger);
  // The relay's client reconnects forever when closed before it connected: let it connect first.
  await new Promise((resolve) => setTimeout(resolve, 500));
  await inspection.close();
  await new Promise((resolve) => setImmediate(resolve));
  const line = lines.find((l) => String(l.msg).startsWith('XState inspector'));
  t.truthy(line, JSON.stringify(lines));
  t.regex(String(line!.msg), /stately\.ai.*needs internet.*--trace FILE/);
});
