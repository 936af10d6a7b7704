/**
 * The load generator's core: seeded, mixed as asked, agreeing with the agent on every answer,
 * held to its rate and concurrency, stoppable; and its command-line options.
 */
import test from 'ava';
import { parseVisitBody } from '../../src/contract/visit.ts';
import { parseTrafficArgs, UsageError } from '../../scripts/traffic/args.ts';
import { generateEvents, parseMix, runTraffic, progressLine, summaryText, type TrafficEvent, type TrafficResult } from '../../scripts/traffic/index.ts';
import { recordingAgent } from './support/agent.ts';

const describe = (events: Iterable<TrafficEvent>) => [...events].map((e) => ({ label: e.label, expect: e.expect }));

test('the same seed gives the same visits; another seed, others', (t) => {
  const a = describe(generateEvents({ count: 200, seed: 42 }));
  t.deepEqual(a, describe(generateEvents({ count: 200, seed: 42 })));
  t.notDeepEqual(a, describe(generateEvents({ count: 200, seed: 43 })));
  t.is(a.length, 200);
});

test('the mix is honoured: shares, aliases and sources', (t) => {
  const events = [...generateEvents({ count: 4_000, mix: { 'type-in': 45, referrer: 45, invalid: 10 }, seed: 3 })];
  const invalid = events.filter((e) => e.expect.status !== 202).length;
  const typeIn = events.filter((e) => e.expect.type === 'type-in').length;
  t.true(invalid > 320 && invalid < 480, `about 10 % invalid (${invalid})`);
  t.true(typeIn > 1_620 && typeIn < 1_980, `about 45 % type-in (${typeIn})`);
  for (const source of ['direct', 'rest', 'http'])
    t.true(
      events.some((e) => e.label.startsWith(`${source} `)),
      `${source} events present`,
    );

  const referrers = [...generateEvents({ count: 300, mix: { referrer: 1 }, sources: ['http'] })];
  t.true(referrers.every((e) => e.expect.type === 'referrer' && e.expect.url !== undefined && e.label.startsWith('http ')));
  const aliases = [...generateEvents({ count: 50, mix: { direct: 1 }, sources: ['direct'] })];
  t.true(aliases.every((e) => e.expect.type === 'type-in' && (e.event as { queryStringParameters: { type: string } }).queryStringParameters.type === 'direct'));
  const mistakes = [...generateEvents({ count: 300, mix: { invalid: 1 } })];
  t.true(mistakes.every((e) => e.expect.status === 400 || e.expect.status === 405 || e.expect.status === 413));
  t.true(mistakes.some((e) => e.expect.status === 413) && new Set(mistakes.map((e) => e.label.split(': ')[1])).size >= 8, 'varied mistakes');
});

test('the agent answers every generated visit as the generator expects, and enqueues exactly the accepted ones as expected', async (t) => {
  const { handle, sent } = recordingAgent();
  const results: TrafficResult[] = [];
  const summary = await runTraffic({ events: generateEvents({ count: 1_000, seed: 11 }), invoke: handle, concurrency: 8, onResult: (r) => results.push(r) });
  t.is(summary.sent, 1_000);
  t.is(
    summary.unexpected,
    0,
    results
      .filter((r) => r.unexpected)
      .map((r) => `${r.event.label} -> ${r.status}`)
      .slice(0, 5)
      .join('; '),
  );
  t.is(summary.failed, 0);
  t.is(summary.accepted + summary.rejected, 1_000);
  t.is(sent.length, summary.accepted);
  const byId = new Map(sent.map((m) => [m.visitId, m]));
  for (const result of results.filter((r) => r.outcome === 'accepted')) {
    const message = byId.get(result.visitId!);
    const parsed = parseVisitBody(message?.body, 'x');
    t.true(parsed.ok, result.event.label);
    if (!parsed.ok) continue;
    const { type, ip, url } = result.event.expect;
    t.deepEqual({ type: parsed.visit.type, ip: parsed.visit.ip, url: parsed.visit.url }, { type, ip, url }, result.event.label);
  }
  t.true(summary.latencyMs.p50 <= summary.latencyMs.p99 && summary.latencyMs.p99 <= summary.latencyMs.max);
  t.deepEqual(
    Object.values(summary.byStatus).reduce((a, b) => a + b, 0),
    1_000,
  );
});

test('the rate is held: 30 visits at 200/s take about 145 ms or more', async (t) => {
  const { handle } = recordingAgent();
  const summary = await runTraffic({ events: generateEvents({ count: 30 }), invoke: handle, rate: 200, concurrency: 4 });
  t.is(summary.sent, 30);
  t.true(summary.elapsedMs >= 140 && summary.elapsedMs < 2_000, `${summary.elapsedMs} ms`);
  t.true(summary.perSecond <= 215, `${summary.perSecond} msg/s`);
});

test('no more invocations in flight than the concurrency', async (t) => {
  let inFlight = 0;
  let peak = 0;
  // Invocations wait until five are in flight at once: the runner's whole first wave has started
  // before any answers, so a sixth would be seen.
  let fullWave: () => void = () => {};
  const wave = new Promise<void>((resolve) => (fullWave = resolve));
  const slow = async () => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    if (inFlight === 5) fullWave();
    await wave;
    inFlight--;
    return { statusCode: 202, body: '{"visit_id":"x"}' };
  };
  const summary = await runTraffic({ events: generateEvents({ count: 60, mix: { referrer: 1 } }), invoke: slow, concurrency: 5 });
  t.is(summary.sent, 60);
  t.is(peak, 5);
});

test('failures and surprises are counted, not thrown; an abort stops the run early', async (t) => {
  let calls = 0;
  const flaky = async () => {
    calls++;
    if (calls % 4 === 0) throw new Error('boom');
    return { statusCode: 500, body: '{}' };
  };
  const summary = await runTraffic({ events: generateEvents({ count: 40, mix: { referrer: 1 } }), invoke: flaky, concurrency: 2 });
  t.is(summary.failed, 40);
  t.is(summary.unexpected, 40);
  t.is(summary.byStatus.error, 10);
  t.is(summary.byStatus['500'], 30);

  const controller = new AbortController();
  const { handle } = recordingAgent();
  const stopped = await runTraffic({
    events: generateEvents({ count: 10_000 }),
    invoke: handle,
    rate: 1_000,
    signal: controller.signal,
    onResult: (_r, progress) => {
      if (progress.sent === 20) controller.abort();
    },
  });
  t.true(stopped.aborted);
  t.true(stopped.sent >= 20 && stopped.sent < 100, `${stopped.sent} sent`);
});

test('mix and option parsing: defaults, and one clear line per mistake', (t) => {
  t.deepEqual(parseMix('type-in=45, referrer=45,invalid=10,direct=0'), { 'type-in': 45, referrer: 45, invalid: 10, direct: 0 });
  t.throws(() => parseMix('type-in'), { message: /"type-in" is not name=weight/ });
  t.throws(() => parseMix('typein=1'), { message: /"typein" is not one of type-in, referrer, direct, invalid/ });
  t.throws(() => parseMix('referrer=-1'), { message: /must be a number >= 0/ });
  t.throws(() => parseMix('referrer=0,invalid=0'), { message: /must not all be 0/ });

  const defaults = parseTrafficArgs([]);
  t.like(defaults, { count: 100, rate: 100, concurrency: 16, seed: 1, json: false, sources: ['direct', 'rest', 'http'] });
  t.like(parseTrafficArgs(['--count', '5000', '--rate', '0', '--mix', 'referrer=1', '--sources', 'http,rest', '--json']), {
    count: 5_000,
    rate: 0,
    mix: { referrer: 1 },
    sources: ['http', 'rest'],
    json: true,
  });
  t.throws(() => parseTrafficArgs(['--count', '0']), { instanceOf: UsageError, message: /--count "0" is invalid: expected an integer from 1/ });
  t.throws(() => parseTrafficArgs(['--count', '1e9']), { instanceOf: UsageError, message: /--count/ });
  t.throws(() => parseTrafficArgs(['--rate', 'fast']), { instanceOf: UsageError, message: /--rate "fast"/ });
  t.throws(() => parseTrafficArgs(['--sources', 'sqs']), { instanceOf: UsageError, message: /"sqs" is not one of direct, rest, http/ });
  t.throws(() => parseTrafficArgs(['--cuont', '3']), { instanceOf: UsageError, message: /--cuont/ });
});

test('the progress line and the summary show the counts and the rate', (t) => {
  const line = progressLine({ sent: 250, accepted: 200, rejected: 40, failed: 10, unexpected: 10, elapsedMs: 500 }, 1_000);
  t.is(line, '[########......................]  250/1000  25%  accepted 200  rejected 40  failed 10  500 msg/s');
  const text = summaryText({
    sent: 1_000,
    accepted: 900,
    rejected: 100,
    failed: 0,
    unexpected: 0,
    elapsedMs: 2_000,
    byStatus: { 202: 900, 400: 95, 413: 5 },
    perSecond: 500,
    acceptedPerSecond: 450,
    latencyMs: { p50: 1.25, p99: 9, max: 12 },
    aborted: false,
  });
  t.regex(text, /sent 1000 in 2\.00 s/);
  t.regex(text, /accepted 900, rejected 100, failed 0 {2}\(202: 900, 400: 95, 413: 5\)/);
  t.regex(text, /500 msg\/s sent, 450 msg\/s enqueued/);
});
