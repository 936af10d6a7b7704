/**
 * The processor as a person at a terminal sees it (stdout taken for a terminal), against a real
 * SQS endpoint: a running line naming the endpoint, the queue and the pollers, written batches as
 * short lines with every row counted, no rows, and a handful of lines for a few hundred visits.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { stripVTControlCharacters } from 'node:util';
import test from 'ava';
import { PROCESSOR_NODE_FLAGS } from '../support/node-flags.ts';
import { endpointEnv, envWithoutPipelineSettings, watchExit } from '../support/processor-child.ts';
import { startTestEndpoint, waitFor } from '../support/sqs.ts';

/** Makes the child's stdout report a terminal, as under a person's shell, while the test reads a pipe. */
const AS_TERMINAL = `data:text/javascript,${encodeURIComponent("Object.defineProperty(process.stdout, 'isTTY', { value: true });")}`;
const VISITS = 300;

test(`on a terminal, ${VISITS} visits print a running line and a few short written lines`, async (t) => {
  const sqs = await startTestEndpoint();
  t.teardown(() => sqs.stop());
  const child = spawn(process.execPath, ['--import', AS_TERMINAL, ...PROCESSOR_NODE_FLAGS, 'src/processor/main.ts'], {
    env: {
      ...envWithoutPipelineSettings(),
      ...endpointEnv(sqs),
      POLLERS: '3',
      RECEIVE_WAIT_SECONDS: '1',
      METRICS_PORT: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => child.kill('SIGKILL'));
  const { exited, stderr } = watchExit(child);
  const lines: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => lines.push(stripVTControlCharacters(line)));

  await waitFor(() => lines.some((l) => l.includes('running:')), 60_000, 'the running line');
  const queue = sqs.queueUrl.slice(sqs.queueUrl.lastIndexOf('/') + 1);
  t.true(
    lines.some((l) => l.includes(`INFO (traffic-processor): running: 3 pollers draining ${queue} on ${sqs.endpoint}`)),
    lines.join('\n'),
  );

  for (let i = 0; i < VISITS; i += 10) {
    const entries = Array.from({ length: 10 }, (_, j) => ({
      Id: String(j),
      MessageBody: JSON.stringify({ type: j % 2 ? 'referrer' : 'type-in', created_at: Date.now(), visit_id: `terminal-${i + j}` }),
    }));
    await sqs.client.send(new SendMessageBatchCommand({ QueueUrl: sqs.queueUrl, Entries: entries }));
  }
  const written = () =>
    lines.reduce((total, line) => {
      const match = /written: (\d+) (type-in|referrer) visits?(?: in \d+ batch(?:es)?)?, latency \d+(–\d+)? ms$/.exec(line);
      return total + (match ? Number(match[1]) : 0);
    }, 0);
  await waitFor(() => written() === VISITS, 60_000, `${VISITS} visits in written lines`);

  child.kill('SIGINT');
  t.is(await exited, 0, stderr());
  t.false(
    lines.some((l) => l.includes('terminal-')),
    'no row (visit_id) at info',
  );
  t.true(lines.length <= 30, `${lines.length} lines:\n${lines.join('\n')}`);
  t.true(
    lines.every((l) => /^\[\d\d:\d\d:\d\d\.\d{3}\] (INFO|WARN)/.test(l)),
    'one line per entry',
  );
});
