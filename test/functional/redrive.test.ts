/**
 * `npm run redrive` with messages of real sizes: batches stay within SQS's 1 MiB request limit,
 * a message near 1 MiB goes alone, and every body arrives on the PIPELINE unchanged. Messages
 * another reader holds in flight are waited for, within --wait.
 */
import { createHash } from 'node:crypto';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import test from 'ava';
import { chunkByBytes } from '../../src/processor/sqs/queue.ts';
import { runScript } from '../support/run-script.ts';
import { drainQueue, queueDepth, startTestEndpoint } from '../support/sqs.ts';

const hash = (text: string) => createHash('sha256').update(text).digest('hex');

/** SQS's limit on a batch request's total payload, and on one message. */
const MAX_BATCH_BYTES = 1_048_576;
const entries = (bodies: readonly string[]) => bodies.map((body, i) => ({ Id: String(i), MessageBody: body }));

test('redrive batches hold at most 10 messages and 1 MiB; a message too large to share goes alone', (t) => {
  const sizes = [300_000, 300_000, 300_000, 300_000, 1_048_000, 10, 10, ...Array.from({ length: 25 }, () => 100)];
  const batches = chunkByBytes(entries(sizes.map((n) => 'x'.repeat(n))));
  for (const batch of batches) {
    t.true(batch.length <= 10);
    t.true(batch.reduce((sum, e) => sum + e.MessageBody!.length, 0) <= MAX_BATCH_BYTES);
  }
  t.deepEqual(
    batches.flat().map((e) => Number(e.Id)),
    sizes.map((_, i) => i),
    'every message once, in order',
  );
  const big = batches.find((batch) => batch.some((e) => e.MessageBody!.length === 1_048_000))!;
  t.false(
    big.some((e) => e.MessageBody!.length === 300_000),
    'the near-1 MiB message shares its batch with no large one',
  );
  t.deepEqual(
    chunkByBytes(entries(['x'.repeat(MAX_BATCH_BYTES), 'y'])).map((batch) => batch.length),
    [1, 1],
    'a full 1 MiB message alone',
  );
  t.is(chunkByBytes(entries(['é'.repeat(300_000), 'é'.repeat(300_000)])).length, 2, 'sizes are UTF-8 bytes, not characters');
});

test('npm run redrive moves large dead letters: 12 of 300 KB, one near 1 MiB and small ones, bodies intact', async (t) => {
  const sqs = await startTestEndpoint();
  t.teardown(() => sqs.stop());
  const bodies = [
    ...Array.from({ length: 12 }, (_, i) => `${i}:${'a'.repeat(300_000)}`),
    `big:${'b'.repeat(1_048_000)}`,
    ...Array.from({ length: 5 }, (_, i) => JSON.stringify({ type: 'referrer', created_at: 1_764_000_000_000, url: `test${i}.com` })),
  ];
  for (const body of bodies) await sqs.client.send(new SendMessageCommand({ QueueUrl: sqs.dlqUrl, MessageBody: body }));

  const { code, stdout, stderr } = await runScript('scripts/redrive.ts', [], {
    AWS_ENDPOINT_URL: sqs.endpoint,
    TRAFFIC_QUEUE_URL: sqs.queueUrl,
    TRAFFIC_DLQ_URL: sqs.dlqUrl,
  });
  t.is(code, 0, stdout + stderr);
  t.regex(stdout, new RegExp(`^moved ${bodies.length} message\\(s\\)`));

  const moved = await drainQueue(sqs.client, sqs.queueUrl);
  t.deepEqual(moved.map((m) => hash(m.Body!)).sort(), bodies.map(hash).sort(), 'every body on the PIPELINE, unchanged');
  t.deepEqual(await queueDepth(sqs.client, sqs.dlqUrl), { visible: 0, invisible: 0 }, 'DLQ empty');
});

const runRedrive = (...args: string[]) => runScript('scripts/redrive.ts', args);

const REDRIVE_USAGE = `usage: npm run redrive [-- --max N] [--wait S]
  N: at most this many messages, default 10000
  S: how long to wait for messages another reader holds in flight on the DLQ, 0 to 600 seconds, default 30
`;

test('npm run redrive refuses a --max or --wait that is not a whole number in range: what was wrong, then the usage', async (t) => {
  for (const max of ['ten', '0', '1.5', '', ' 5', '+5', '1e3']) {
    const { code, stderr } = await runRedrive('--max', max);
    t.is(code, 2, max);
    t.is(stderr, `redrive: --max must be a whole number of at least 1, not "${max}"\n${REDRIVE_USAGE}`);
  }
  for (const wait of ['601', '1.5', 'soon']) {
    const { code, stderr } = await runRedrive('--wait', wait);
    t.is(code, 2, wait);
    t.is(stderr, `redrive: --wait must be a whole number from 0 to 600, not "${wait}"\n${REDRIVE_USAGE}`);
  }
});

/** A reader that holds `count` DLQ messages in flight for `seconds` and never hands them back. */
async function holdInFlight(sqs: Awaited<ReturnType<typeof startTestEndpoint>>, count: number, seconds: number): Promise<void> {
  let held = 0;
  while (held < count) {
    const { Messages = [] } = await sqs.client.send(
      new ReceiveMessageCommand({ QueueUrl: sqs.dlqUrl, MaxNumberOfMessages: count - held, VisibilityTimeout: seconds }),
    );
    held += Messages.length;
  }
}

test('npm run redrive moves dead letters another reader holds in flight once their lease ends, within --wait', async (t) => {
  const sqs = await startTestEndpoint();
  t.teardown(() => sqs.stop());
  const bodies = ['{"n":1}', '{"n":2}', '{"n":3}'];
  for (const body of bodies) await sqs.client.send(new SendMessageCommand({ QueueUrl: sqs.dlqUrl, MessageBody: body }));
  // Two of three held for 2 s: SQS then counts them in flight, not among the visible ones.
  await holdInFlight(sqs, 2, 2);
  t.deepEqual(await queueDepth(sqs.client, sqs.dlqUrl), { visible: 1, invisible: 2 });

  const started = Date.now();
  const { code, stdout, stderr } = await runScript('scripts/redrive.ts', ['--wait', '20'], {
    AWS_ENDPOINT_URL: sqs.endpoint,
    TRAFFIC_QUEUE_URL: sqs.queueUrl,
    TRAFFIC_DLQ_URL: sqs.dlqUrl,
  });
  t.is(code, 0, stdout + stderr);
  t.regex(stdout, /^moved 3 message\(s\)/);
  const took = Date.now() - started;
  t.true(took >= 1_500 && took < 15_000, `waited for the lease, not for all of --wait (${took} ms)`);
  t.deepEqual((await drainQueue(sqs.client, sqs.queueUrl)).map((m) => m.Body).sort(), bodies);
  t.deepEqual(await queueDepth(sqs.client, sqs.dlqUrl), { visible: 0, invisible: 0 });
});

test('npm run redrive says, and exits 1, when messages stay in flight past --wait; what it could move it moves', async (t) => {
  const sqs = await startTestEndpoint();
  t.teardown(() => sqs.stop());
  for (const body of ['{"n":1}', '{"n":2}']) await sqs.client.send(new SendMessageCommand({ QueueUrl: sqs.dlqUrl, MessageBody: body }));
  await holdInFlight(sqs, 1, 60);
  // The message is held for 60 s: exit 1 and one moved show the wait ended at --wait, not with the hold.
  const { code, stdout, stderr } = await runScript('scripts/redrive.ts', ['--wait', '1'], {
    AWS_ENDPOINT_URL: sqs.endpoint,
    TRAFFIC_QUEUE_URL: sqs.queueUrl,
    TRAFFIC_DLQ_URL: sqs.dlqUrl,
  });
  t.is(code, 1);
  t.regex(stdout, /^moved 1 message\(s\)/);
  t.is(
    stderr,
    'redrive: 1 message(s) stayed in flight on the DLQ for 1 s (another reader holds them): run it again once they are visible, or with a longer --wait\n',
  );
  t.is((await drainQueue(sqs.client, sqs.queueUrl)).length, 1);
});

test('npm run redrive refuses an unknown option, an argument or a huge number in one line, and --help wins over the rest', async (t) => {
  const unknown = await runRedrive('--mx', '3');
  t.is(unknown.code, 2);
  t.true(unknown.stderr.startsWith("redrive: Unknown option '--mx'"), unknown.stderr);
  t.true(unknown.stderr.endsWith(REDRIVE_USAGE));
  t.false(unknown.stderr.includes('    at '), 'no stack trace');
  const extra = await runRedrive('now');
  t.is(extra.code, 2);
  t.is(extra.stderr, `redrive: unexpected argument "now"\n${REDRIVE_USAGE}`);
  // Node's own message for this one runs to three lines: only its first is kept.
  const ambiguous = await runRedrive('--max', '-5');
  t.is(ambiguous.code, 2);
  t.is(ambiguous.stderr, `redrive: Option '--max' argument is ambiguous.\n${REDRIVE_USAGE}`);
  const huge = await runRedrive('--max', '99999999999999999999');
  t.is(huge.code, 2);
  t.is(huge.stderr, `redrive: --max is too large: 99999999999999999999\n${REDRIVE_USAGE}`);
  // Help wins over anything else on the line.
  for (const args of [['--help'], ['-h', '--bogus'], ['--max', 'ten', '--help']]) {
    const help = await runRedrive(...args);
    t.is(help.code, 0, args.join(' '));
    t.is(help.stdout, REDRIVE_USAGE);
  }
});

test('npm run redrive refuses a DLQ that is the PIPELINE itself, however written, and a region that is not one', async (t) => {
  const same = await runScript('scripts/redrive.ts', [], {
    AWS_ENDPOINT_URL: 'http://127.0.0.1:1',
    TRAFFIC_QUEUE_URL: 'http://localhost:1/000000000000/dev-traffic-queue',
    TRAFFIC_DLQ_URL: 'http://127.0.0.1:1/000000000000/dev-traffic-queue/',
  });
  t.is(same.code, 2, same.stderr);
  t.regex(same.stderr, /^redrive: TRAFFIC_DLQ_URL=\S+ names the same queue as TRAFFIC_QUEUE_URL/);
  t.is(same.stderr.trim().split('\n').length, 1);
  const region = await runScript('scripts/redrive.ts', [], { AWS_ENDPOINT_URL: 'http://127.0.0.1:1', AWS_REGION: '../../etc' });
  t.is(region.code, 2, region.stderr);
  t.regex(region.stderr, /^redrive: AWS_REGION="\.\.\/\.\.\/etc" is invalid/);
});
