/**
 * The fault suite's own harness: it reads the ledger of writes while workers append to it, and a
 * scenario that fails half-way does not leave its workers running (they would keep the suite from
 * exiting).
 */
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { endpoint, ledger, ledgerEntries, startWorker, type Endpoint } from './scenarios.ts';

test('a last line without its newline is still being written: the complete lines are read, it is not', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'traffic-ledger-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ep = { dir } as Endpoint;
  t.deepEqual(ledgerEntries(ep), [], 'no ledger yet');
  const file = join(dir, 'ledger.jsonl');
  appendFileSync(file, `${JSON.stringify({ type: 'type-in', at: 1, ids: ['a', 'b'] })}\n`);
  appendFileSync(file, `${JSON.stringify({ type: 'referrer', at: 2, ids: ['a'] })}\n`);
  const line = JSON.stringify({ type: 'referrer', at: 3, ids: ['c'] });
  appendFileSync(file, line.slice(0, 20));
  t.deepEqual(
    [...ledger(ep)],
    [
      ['a', 2],
      ['b', 1],
    ],
  );
  appendFileSync(file, `${line.slice(20)}\n`);
  t.deepEqual(
    ledgerEntries(ep).map((e) => e.ids),
    [['a', 'b'], ['a'], ['c']],
    'once its newline is written, it is read',
  );
});

test('stopping an endpoint kills the workers still running against it', async (t) => {
  const ep = await endpoint();
  const worker = startWorker(ep, {});
  t.teardown(() => worker.child.kill('SIGKILL'));
  await worker.ready;
  // As a scenario that threw before stopping its workers: only its `finally` stops the endpoint.
  await ep.stop();
  t.not(worker.child.exitCode ?? worker.child.signalCode, null, 'the worker has exited');
});
