/**
 * A knob or option that cannot work stops the real processor at start: exit code 2, one line on
 * stderr naming the variable or option, nothing claimed as started, no stack trace.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import test from 'ava';
import { outcomeOf, type Outcome } from '../support/run-script.ts';
import { GetQueueAttributesCommand, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { freePort, startTestEndpoint } from '../support/sqs.ts';

/** Runs the processor until it exits (or kills it after `timeoutMs`, which the assertions then catch). */
async function runProcessor(args: string[], env: Record<string, string>, timeoutMs = 30_000): Promise<Outcome> {
  const child = spawn(process.execPath, ['src/processor/main.ts', ...args], {
    env: { ...process.env, LOG_JSON: '1', EMBEDDED_SQS_PORT: '0', AGENT_PORT: '0', RECEIVE_WAIT_SECONDS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    return await outcomeOf(child);
  } finally {
    clearTimeout(timer);
  }
}

async function busyPort(): Promise<{ port: number; server: Server }> {
  const port = await freePort();
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(port, resolve));
  return { port, server };
}

function assertOneLine(t: import('ava').ExecutionContext, outcome: Outcome, names: RegExp): void {
  t.is(outcome.code, 2, `exit code 2 (stderr: ${outcome.stderr})`);
  const lines = outcome.stderr.split('\n').filter(Boolean);
  t.is(lines.length, 1, `one line: ${outcome.stderr}`);
  t.regex(lines[0] ?? '', names);
  t.false(/\n\s+at /.test(outcome.stderr), 'no stack trace');
  t.false(/ready|tracing actor events|XState inspector:|health and metrics on/.test(outcome.stdout), `nothing claimed as started: ${outcome.stdout}`);
}

const badEnvironments: Array<[string, Record<string, string>, RegExp]> = [
  ['AGENT_PORT=http', { AGENT_PORT: 'http' }, /^traffic-processor: AGENT_PORT="http" is invalid: expected an integer from 0 to 65535$/],
  [
    'AGENT_ALLOWED_ORIGINS with a path',
    { AGENT_ALLOWED_ORIGINS: 'https://www.example.com/home' },
    /^traffic-processor: AGENT_ALLOWED_ORIGINS has "https:\/\/www.example.com\/home", which is not an origin/,
  ],
  [
    'AGENT_PORT with a queue of its own (the local entry serves the embedded default only)',
    { AGENT_PORT: '8080', EMBEDDED_SQS_PORT: '', TRAFFIC_QUEUE_URL: 'http://127.0.0.1:9/000000000000/q', AWS_ENDPOINT_URL: 'http://127.0.0.1:9' },
    /^traffic-processor: AGENT_PORT is set but so is TRAFFIC_QUEUE_URL/,
  ],
  [
    'RECEIVE_WAIT_SECONDS=0 (an idle processor would spin)',
    { RECEIVE_WAIT_SECONDS: '0' },
    /^traffic-processor: RECEIVE_WAIT_SECONDS="0" is invalid: expected an integer from 1 to 20$/,
  ],
  [
    'WRITE_TIMEOUT_MS longer than the lease leaves',
    { WRITE_TIMEOUT_MS: '25000' },
    /^traffic-processor: WRITE_TIMEOUT_MS=25000 is invalid: it must be at most \(VISIBILITY_TIMEOUT_SECONDS 30 - heartbeat 10\) x 1000 - lease margin 1000 = 19000/,
  ],
  [
    'TRAFFIC_DLQ_URL the PIPELINE itself, written another way',
    {
      EMBEDDED_SQS_PORT: '',
      AGENT_PORT: '',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:1',
      TRAFFIC_QUEUE_URL: 'http://localhost:1/000000000000/dev-traffic-queue',
      TRAFFIC_DLQ_URL: 'http://127.0.0.1:1/000000000000/dev-traffic-queue/',
    },
    /^traffic-processor: TRAFFIC_DLQ_URL=http:\/\/127\.0\.0\.1:1\/000000000000\/dev-traffic-queue\/ is invalid: it names the same queue as TRAFFIC_QUEUE_URL/,
  ],
  [
    'AWS_REGION=../../etc',
    { AWS_REGION: '../../etc' },
    /^traffic-processor: AWS_REGION="\.\.\/\.\.\/etc" is invalid: expected an AWS region such as us-east-1/,
  ],
  [
    'TRAFFIC_LOCAL_CREDENTIALS=1 for AWS',
    { EMBEDDED_SQS_PORT: '', AGENT_PORT: '', TRAFFIC_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/q', TRAFFIC_LOCAL_CREDENTIALS: '1' },
    /^traffic-processor: TRAFFIC_LOCAL_CREDENTIALS=1 is invalid without an SQS endpoint/,
  ],
  [
    'TRAFFIC_DLQ_URL in embedded mode',
    { TRAFFIC_DLQ_URL: 'http://127.0.0.1:1/000000000000/dlq' },
    /^traffic-processor: TRAFFIC_DLQ_URL is set but TRAFFIC_QUEUE_URL is not/,
  ],
];

for (const [name, env, line] of badEnvironments) {
  test(`${name}: stops at start with one line`, async (t) => {
    assertOneLine(t, await runProcessor([], env), line);
  });
}

test('METRICS_PORT already in use: stops at start with one line naming it', async (t) => {
  const { port, server } = await busyPort();
  t.teardown(() => server.close());
  assertOneLine(t, await runProcessor([], { METRICS_PORT: String(port) }), new RegExp(`^traffic-processor: METRICS_PORT=${port}: the port is in use`));
});

test('AGENT_PORT already in use: stops with one line naming it and how to turn the entry off', async (t) => {
  const { port, server } = await busyPort();
  t.teardown(() => server.close());
  const outcome = await runProcessor([], { AGENT_PORT: String(port) });
  t.is(outcome.code, 2);
  t.is(outcome.stderr, `traffic-processor: AGENT_PORT=${port}: the port is in use; set AGENT_PORT to a free port, or to off to serve no HTTP entry\n`);
  t.false(/processor starting/.test(outcome.stdout), 'nothing received');
});

test('--trace into a folder that does not exist: stops at start with one line naming the option', async (t) => {
  assertOneLine(
    t,
    await runProcessor(['--trace', '/nonexistent/dir/run.jsonl'], {}),
    /^traffic-processor: --trace \/nonexistent\/dir\/run\.jsonl: cannot open the file for writing \(its folder does not exist\)$/,
  );
});

test('--inspect on a busy port: stops at start with one line naming the option', async (t) => {
  const { port, server } = await busyPort();
  t.teardown(() => server.close());
  assertOneLine(
    t,
    await runProcessor([`--inspect=${port}`], {}),
    new RegExp(`^traffic-processor: --inspect=${port}: cannot serve the inspector \\(the port is in use\\)`),
  );
});

test('a PIPELINE whose RedrivePolicy names itself: stops at start, naming it, before anything is received', async (t) => {
  const queue = await startTestEndpoint();
  t.teardown(() => queue.stop());
  const { Attributes } = await queue.client.send(new GetQueueAttributesCommand({ QueueUrl: queue.queueUrl, AttributeNames: ['QueueArn'] }));
  const RedrivePolicy = JSON.stringify({ deadLetterTargetArn: Attributes!.QueueArn, maxReceiveCount: 5 });
  await queue.client.send(new SetQueueAttributesCommand({ QueueUrl: queue.queueUrl, Attributes: { RedrivePolicy } }));
  const outcome = await runProcessor([], { EMBEDDED_SQS_PORT: '', AGENT_PORT: '', AWS_ENDPOINT_URL: queue.endpoint, TRAFFIC_QUEUE_URL: queue.queueUrl });
  t.is(outcome.code, 1, outcome.stdout + outcome.stderr);
  const failure = outcome.stdout.split('\n').find((line) => line.includes('could not start'));
  t.truthy(failure, outcome.stdout);
  t.regex(failure!, /the DLQ of [^ ]+ is that queue itself/);
  t.false(/processor starting/.test(outcome.stdout), 'nothing received');
});

test('SQS_LEAN_CALLS other than on or off stops the processor at start in one line', async (t) => {
  const outcome = await runProcessor([], { SQS_LEAN_CALLS: 'maybe' });
  assertOneLine(t, outcome, /SQS_LEAN_CALLS="maybe" is not allowed: use on \(default\) or off/);
});
