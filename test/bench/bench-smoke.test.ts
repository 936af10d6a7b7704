/** The benchmark harness on a few hundred messages: every competitor drains everything, exactly once, through the echo storage; CPU times are reported. Never timed. */
import test from 'ava';
import { COMPETITORS } from './competitors.ts';
import { measure, preload, startSqsServer } from './orchestrate.ts';

for (const competitor of COMPETITORS) {
  test(`bench harness: ${competitor} drains a small burst exactly once`, async (t) => {
    const server = await startSqsServer();
    t.teardown(() => server.stop());
    const burst = await preload(server, 300, 42);
    // A round trip longer than a receive takes here without it, so the check below sees it injected.
    const run = await measure(server, burst, { competitor, pollers: 4, rttMs: 50, storageMs: 1, reportIds: true });
    const valid = burst.messages.filter((m) => m.visitId).map((m) => m.visitId!);
    t.is(run.duplicates, 0);
    if (competitor === 'limit') {
      t.is(run.written, 0, 'the limit writes nothing');
    } else {
      t.is(run.written, valid.length);
      t.deepEqual([...(run.visitIds ?? [])].sort(), [...valid].sort(), 'every valid visit written, none twice');
    }
    t.true(run.callsPerMessage > 0);
    t.true(run.receiveMs >= 50, `a receive waits at least the injected round trip (${run.receiveMs} ms)`);
    t.true(run.loopBusy > 0 && run.loopBusy <= 1, `the competitor reports how busy its event loop was (${run.loopBusy})`);
    t.true(run.cpuUsPerMessage > 0, 'the competitor reports its CPU time');
    t.true(run.endpointCpuUsPerMessage > 0, 'the endpoint reports its CPU time');
  });
}
