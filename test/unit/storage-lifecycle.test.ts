/**
 * The storage adapter's lifecycle: readiness before anything is received, the reason on /healthz
 * while it is not ready, close after the last write (and writes refused after it).
 */
import test from 'ava';
import pino from 'pino';
import type { Registry } from 'prom-client';
import { VISIT_TYPES } from '../../src/contract/visit-types.ts';
import { withStorage, type Health } from '../../src/processor/runtime/health.ts';
import { startHttpServer } from '../../src/processor/runtime/http-server.ts';
import { createStorage } from '../../src/processor/storage/index.ts';
import { closeStorage, startWhenReady, waitUntilReady } from '../../src/processor/storage/lifecycle.ts';
import type { StorageAdapter, StorageStatus } from '../../src/processor/storage/port.ts';
import { capturedLogger } from '../support/captured-logger.ts';

const referrer = VISIT_TYPES.find((v) => v.name === 'referrer')!;
const visit = { type: 'referrer', createdAt: 1_700_000_000_000, visitId: 'v1', url: 'test.com' } as const;
const live = () => new AbortController().signal;

for (const backend of ['mysql', 'cassandra'] as const) {
  test(`${backend} echo adapter: ready at once; closed, it is not ready, says why, and refuses writes`, async (t) => {
    const { lines, logger } = capturedLogger<{ msg: string; backend?: string }>('info');
    const storage = createStorage(backend, logger);
    await t.notThrowsAsync(storage.ready(live()));
    t.deepEqual(storage.status(), { ready: true });
    await storage.writeBatch(referrer, [visit as never], live());
    await storage.close();
    await storage.close();
    t.deepEqual(storage.status(), { ready: false, reason: `${backend} storage is closed` });
    await t.throwsAsync(storage.ready(live()), { message: `${backend} storage is closed` });
    await t.throwsAsync(storage.writeBatch(referrer, [visit as never], live()), { message: `${backend} storage is closed` });
    t.is(lines.filter((l) => l.msg === 'write').length, 1, 'the write after close logged no statement');
    t.is(lines.filter((l) => l.msg === 'storage closed').length, 1, 'closed once');
  });
}

/** An adapter whose readiness answers come from a script: a reason to fail with, 'hang', or 'ok'. */
function scriptedStorage(answers: Array<string | 'ok' | 'hang'>): StorageAdapter & { checks: number; closed: boolean } {
  const storage = {
    backend: 'scripted',
    checks: 0,
    closed: false,
    async ready(signal: AbortSignal) {
      const answer = answers[storage.checks++] ?? 'ok';
      if (answer === 'hang') await new Promise(() => {});
      signal.throwIfAborted();
      if (answer !== 'ok') throw new Error(answer);
    },
    status: (): StorageStatus => ({ ready: true }),
    async close() {
      storage.closed = true;
    },
    async writeBatch() {},
  };
  return storage;
}

test('waiting for storage: each failed or hung check is logged with its reason and tried again until it is ready', async (t) => {
  const { lines, logger } = capturedLogger<{ msg: string; err?: { message: string }; attempts?: number }>('info');
  const storage = scriptedStorage(['ECONNREFUSED 127.0.0.1:3306', 'hang', "Table 'traffic.referrer' doesn't exist", 'ok']);
  await waitUntilReady(storage, { logger, signal: live(), attemptMs: 50, backoff: { baseMs: 1, maxMs: 2 } });
  t.is(storage.checks, 4);
  const warnings = lines.filter((l) => l.msg.startsWith('storage not ready'));
  t.deepEqual(
    warnings.map((l) => l.err?.message),
    ['ECONNREFUSED 127.0.0.1:3306', 'scripted readiness check did not finish within 50 ms; abandoned', "Table 'traffic.referrer' doesn't exist"],
  );
  t.like(lines.at(-1), { msg: 'storage ready', attempts: 4 });
});

test('waiting for storage ends at once when the processor is stopped', async (t) => {
  const storage = scriptedStorage(Array.from({ length: 100 }, () => 'down'));
  const stopping = new AbortController();
  const waiting = waitUntilReady(storage, { logger: pino({ level: 'silent' }), signal: stopping.signal, backoff: { baseMs: 60_000, maxMs: 60_000 } });
  // The first check has failed and the wait sleeps a minute: the stop must not wait for it.
  while (storage.checks === 0) await new Promise((resolve) => setImmediate(resolve));
  stopping.abort(new Error('SIGTERM received'));
  await t.throwsAsync(waiting, { message: 'SIGTERM received' });
});

test('the processor starts only once storage is ready, and never when it is stopped while waiting', async (t) => {
  const logger = pino({ level: 'silent' });
  const backoff = { baseMs: 1, maxMs: 1 };
  // Not ready for its first three checks.
  const slow = scriptedStorage(['starting up', 'starting up', 'starting up', 'ok']);
  let checksAtStart = -1;
  const started = await startWhenReady(slow, { logger, signal: live(), backoff }, () => {
    checksAtStart = slow.checks;
    return 'processor';
  });
  t.is(started, 'processor');
  t.is(checksAtStart, 4, 'started after the check that found it ready, not before');

  const down = scriptedStorage(Array.from({ length: 1_000 }, () => 'down'));
  const stopping = new AbortController();
  let starts = 0;
  const waiting = startWhenReady(down, { logger, signal: stopping.signal, backoff }, () => ++starts);
  while (down.checks < 3) await new Promise((resolve) => setImmediate(resolve));
  stopping.abort(new Error('SIGTERM received'));
  t.is(await waiting, undefined, 'a stop ends the wait');
  t.is(starts, 0, 'nothing started');
});

test('closing storage: a close that never finishes is given up after its deadline and logged', async (t) => {
  const { lines, logger } = capturedLogger<{ msg: string }>('info');
  const storage = { ...scriptedStorage([]), close: () => new Promise<void>(() => {}) };
  await closeStorage(storage, logger, 20);
  t.deepEqual(
    lines.map((l) => l.msg),
    ['storage did not close cleanly'],
  );
});

test('/healthz answers 503 with the reason while storage is not ready, 200 once it is', async (t) => {
  let status: StorageStatus = { ready: false, reason: 'connect ECONNREFUSED 127.0.0.1:3306' };
  const running: Health = { ok: true, state: 'running', problems: [] };
  const server = await startHttpServer({
    port: 0,
    host: '127.0.0.1',
    health: () => withStorage(running, 'mysql', status),
    registry: {} as Registry,
  });
  t.teardown(() => server.close());
  const port = (server.address() as { port: number }).port;
  const down = await fetch(`http://127.0.0.1:${port}/healthz`);
  t.is(down.status, 503);
  t.deepEqual(await down.json(), { ok: false, state: 'running', problems: ['storage (mysql) is not ready: connect ECONNREFUSED 127.0.0.1:3306'] });
  status = { ready: true };
  const up = await fetch(`http://127.0.0.1:${port}/healthz`);
  t.is(up.status, 200);
  t.deepEqual(await up.json(), running);
});
