/**
 * `npm run sqs`: the embedded SQS endpoint alone. It prints where it is, keeps what is sent
 * (no processor drains it), refuses a taken port in one line, and stops on SIGINT/SIGTERM.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import test from 'ava';
import { localSqsClient } from '../../src/platform/sqs.ts';
import { outcomeOf, runScript } from '../support/run-script.ts';
import { queueDepth } from '../support/sqs.ts';

const SCRIPT = 'scripts/local/embedded-sqs.ts';

/** Starts the script on any free port; resolves with its printed lines once it has said where it is. */
async function startAlone(t: import('ava').ExecutionContext) {
  const child = spawn(process.execPath, [SCRIPT], { env: { ...process.env, EMBEDDED_SQS_PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => child.kill('SIGKILL'));
  const exited = outcomeOf(child);
  const lines: string[] = [];
  const reader = createInterface({ input: child.stdout! });
  for await (const line of reader) {
    lines.push(line);
    if (line.startsWith('tools:')) break;
  }
  reader.close();
  child.stdout!.resume();
  const field = (label: string) =>
    lines
      .find((line) => line.startsWith(label))!
      .slice(label.length)
      .trim()
      .split(' ')[0];
  return { child, exited, lines, endpoint: field('embedded SQS endpoint:'), queueUrl: field('queue:'), dlqUrl: field('dlq:') };
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`npm run sqs serves the PIPELINE and its DLQ alone, keeps what is sent, and stops on ${signal}`, async (t) => {
    const alone = await startAlone(t);
    t.regex(alone.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    t.regex(alone.queueUrl, /\/000000000000\/dev-traffic-queue$/);
    t.regex(alone.dlqUrl, /\/000000000000\/dev-traffic-queue-dlq$/);
    t.true(
      alone.lines.some((line) => line.includes(`aws --endpoint-url ${alone.endpoint} sqs get-queue-attributes --queue-url ${alone.queueUrl}`)),
      alone.lines.join('\n'),
    );
    const client = localSqsClient(alone.endpoint);
    t.teardown(() => client.destroy());
    await client.send(new SendMessageCommand({ QueueUrl: alone.queueUrl, MessageBody: '{"type":"type-in","created_at":1}' }));
    await new Promise((resolve) => setTimeout(resolve, 500));
    t.deepEqual(await queueDepth(client, alone.queueUrl), { visible: 1, invisible: 0 }, 'no processor drains it');

    alone.child.kill(signal);
    const { code, stdout } = await alone.exited;
    t.is(code, 0);
    t.regex(stdout, new RegExp(`embedded SQS endpoint stopped \\(${signal}\\)`));
    const port = Number(new URL(alone.endpoint).port);
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer().once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    t.true(free, 'its port is released');
  });
}

test('npm run sqs on a taken port, or a bad EMBEDDED_SQS_PORT: one line, exit 1', async (t) => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  t.teardown(() => taken.close());
  const port = (taken.address() as { port: number }).port;
  const busy = await runScript(SCRIPT, [], { EMBEDDED_SQS_PORT: String(port) });
  t.is(busy.code, 1);
  t.regex(busy.stderr, new RegExp(`^sqs: port ${port} is in use .*EMBEDDED_SQS_PORT.*\\n$`));
  const bad = await runScript(SCRIPT, [], { EMBEDDED_SQS_PORT: 'x' });
  t.is(bad.code, 1);
  t.is(bad.stderr, 'sqs: EMBEDDED_SQS_PORT="x" is invalid: expected an integer from 0 to 65535\n');
});
