/**
 * A knob or option that cannot work stops the real processor at start: exit code 2, one line on
 * stderr naming the variable or option, nothing claimed as started, no stack trace.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import test from 'ava';
import { outcomeOf, type Outcome } from '../support/run-script.ts';
import { freePort } from '../support/sqs.ts';

/** Runs the processor until it exits (or kills it after `timeoutMs`, which the assertions then catch). */
async function runProcessor(args: string[], env: Record<string, string>, timeoutMs = 30_000): Promise<Outcome> {
  const child = spawn(process.execPath, ['src/processor/main.ts', ...args], {
    env: { ...process.env, LOG_JSON: '1', EMBEDDED_SQS_PORT: '0', RECEIVE_WAIT_SECONDS: '1', ...env },
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
  [
    'RECEIVE_WAIT_SECONDS=0 (an idle processor would spin)',
    { RECEIVE_WAIT_SECONDS: '0' },
    /^traffic-processor: RECEIVE_WAIT_SECONDS="0" is invalid: expected an integer from 1 to 20$/,
  ],
  ['STATS_INTERVAL_MS=1', { STATS_INTERVAL_MS: '1' }, /^traffic-processor: STATS_INTERVAL_MS=1 is invalid: expected 0 \(off\) or an integer from 1000/],
  [
    'RETRY_BASE_MS above RETRY_MAX_MS',
    { RETRY_BASE_MS: '600000', RETRY_MAX_MS: '1' },
    /^traffic-processor: RETRY_MAX_MS=1 is invalid: it must be at least RETRY_BASE_MS \(600000\)/,
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

test('SQS_LEAN_CALLS other than on or off stops the processor at start in one line', async (t) => {
  const outcome = await runProcessor([], { SQS_LEAN_CALLS: 'maybe' });
  assertOneLine(t, outcome, /SQS_LEAN_CALLS="maybe" is not allowed: use on \(default\) or off/);
});
