/**
 * `npm run smoke`: does a deployment work, end to end? Through the agent's HTTP entry it sends a
 * type-in visit, a referrer visit and an invalid one; straight onto the PIPELINE it puts one
 * message that breaks the contract. Then it reports each: written (in which table), refused at the
 * entry, or dead-lettered (with its reason), and exits 1 unless each ended as it should.
 *
 *   npm run smoke -- --entry <agent_url> --queue <PIPELINE url> --dlq <DLQ url> (--logs <file> | --log-group <name>)
 *
 * SQS endpoint, region and credentials come from the environment as for every tool; without them
 * the entry, the queues and the endpoint are npm start's embedded default.
 */
import { randomUUID } from 'node:crypto';
import { type Message, SendMessageCommand } from '@aws-sdk/client-sqs';
import { DEFAULT_AGENT_PORT } from '../../src/agent/config.ts';
import { ConfigError, type SqsConnection, sqsConnection } from '../../src/platform/config.ts';
import { createSqsClient } from '../../src/platform/sqs.ts';
import { LocalTargetError, type LocalQueues, localQueues } from '../local/target.ts';
import { readOptions } from '../support/cli.ts';
import { handBack, peekMessages } from '../support/dlq-peek.ts';
import { fromLogFile, fromLogGroup, type WriteSource } from './evidence.ts';

const USAGE =
  'usage: npm run smoke -- [--entry URL --queue URL --dlq URL] (--logs FILE | --log-group NAME) [--origin ORIGIN] [--timeout SECONDS]\n' +
  "  --entry: the agent HTTP entry (terraform output agent_url; default: npm start's, on AGENT_PORT)\n" +
  '  --queue, --dlq: the PIPELINE and its DLQ (default: TRAFFIC_QUEUE_URL, TRAFFIC_DLQ_URL, else the embedded ones)\n' +
  '  --logs: the processor JSON log file; --log-group: its CloudWatch log group (AWS)\n' +
  '  --origin: an allowed site origin to send as a browser would (default: none, as curl)';
const cli = readOptions('smoke', USAGE, {
  entry: { type: 'string' },
  queue: { type: 'string' },
  dlq: { type: 'string' },
  logs: { type: 'string' },
  'log-group': { type: 'string' },
  origin: { type: 'string' },
  timeout: { type: 'string', default: '60' },
});
const { logs, origin } = cli.values;
const logGroup = cli.values['log-group'];
const local: LocalQueues = (() => {
  try {
    return localQueues(process.env);
  } catch (error) {
    if (!(error instanceof LocalTargetError)) throw error;
    return cli.fail(error.message);
  }
})();
function sqsConnectionOrExit(): SqsConnection {
  try {
    return sqsConnection(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return cli.fail(error.message);
  }
}
const entry = cli.values.entry ?? `http://127.0.0.1:${process.env.AGENT_PORT || DEFAULT_AGENT_PORT}/`;
const queue = cli.values.queue ?? local.queueUrl;
const dlq = cli.values.dlq ?? local.dlqUrl;
if ((logs === undefined) === (logGroup === undefined)) cli.fail('give one of --logs and --log-group: where the processor writes its lines');
const timeoutMs = cli.wholeNumber('timeout', cli.values.timeout!, 1, 3_600) * 1_000;

const DLQ_LOOK_MAX = 100;
const POLL_MS = 1_000;
const started = Date.now();
const writes: WriteSource = logs !== undefined ? fromLogFile(logs) : fromLogGroup(logGroup!, started - 60_000);
// Queues named on the command line are reached as the environment says (AWS by default), not on the embedded endpoint.
const client = createSqsClient(cli.values.queue || cli.values.dlq ? sqsConnectionOrExit() : local.connection);

interface Probe {
  readonly name: string;
  /** What should happen to it. */
  readonly expect: 'written' | 'refused' | 'dead-lettered';
  /** The visit_id to look for; none when the entry refused it. */
  visitId?: string;
  outcome?: string;
  ok?: boolean;
}

async function post(body: string): Promise<{ status: number; answer: { visit_id?: string; error?: string; details?: string } }> {
  const response = await fetch(entry, {
    method: 'POST',
    headers: { 'content-type': 'text/plain;charset=UTF-8', ...(origin ? { origin } : {}) },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  try {
    return { status: response.status, answer: JSON.parse(text) };
  } catch {
    return { status: response.status, answer: { details: text.slice(0, 200) } };
  }
}

async function viaEntry(name: string, expect: Probe['expect'], body: string): Promise<Probe> {
  const probe: Probe = { name, expect };
  try {
    const { status, answer } = await post(body);
    if (status === 202 && answer.visit_id) probe.visitId = answer.visit_id;
    else {
      probe.outcome = `refused at the entry: ${status} ${answer.error ?? ''} ${answer.details ?? ''}`.trim();
      probe.ok = expect === 'refused' && status >= 400 && status < 500;
    }
  } catch (error) {
    probe.outcome = `the entry did not answer: ${(error as Error).message}`;
    probe.ok = false;
  }
  if (probe.ok === undefined && expect === 'refused') {
    probe.outcome = 'accepted by the entry, though invalid';
    probe.ok = false;
  }
  return probe;
}

const marker = randomUUID();
const probes: Probe[] = [
  await viaEntry('type-in visit', 'written', '{"type":"type-in"}'),
  await viaEntry('referrer visit', 'written', JSON.stringify({ type: 'referrer', url: `https://smoke.example/${marker}` })),
  await viaEntry('invalid visit', 'refused', '{"type":"referrer","url":"javascript:alert(1)"}'),
];
const poison: Probe = { name: 'invalid message on the PIPELINE', expect: 'dead-lettered', visitId: `smoke-${marker}` };
try {
  // A type no agent sends: the processor must dead-letter it, with its reason.
  await client.send(
    new SendMessageCommand({ QueueUrl: queue, MessageBody: JSON.stringify({ type: 'smoke-test', created_at: Date.now(), visit_id: poison.visitId }) }),
  );
} catch (error) {
  poison.outcome = `could not be sent to the PIPELINE: ${(error as Error).message}`;
  poison.ok = false;
}
probes.push(poison);

/** Dead-lettered probes by visit_id, with their reason; the look hands every message back. */
async function deadLettered(): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  let held: Message[] = [];
  try {
    held = await peekMessages(client, dlq, DLQ_LOOK_MAX);
    for (const message of held) {
      const probe = probes.find((p) => p.visitId !== undefined && message.Body?.includes(p.visitId));
      const attributes = message.MessageAttributes ?? {};
      if (probe) found.set(probe.visitId!, `${attributes.error_code?.StringValue ?? '?'}: ${attributes.error_message?.StringValue ?? ''}`);
    }
  } finally {
    for (const problem of await handBack(client, dlq, held)) process.stderr.write(`smoke: ${problem}\n`);
  }
  return found;
}

while (probes.some((p) => p.ok === undefined) && Date.now() - started < timeoutMs) {
  let written: Map<string, string>;
  let dead: Map<string, string>;
  try {
    [written, dead] = await Promise.all([writes(), deadLettered()]);
  } catch (error) {
    // Where the outcomes are read is not there (no log file yet, no AWS CLI, the DLQ unreachable): say so, once.
    process.stderr.write(`smoke: could not read the outcomes: ${(error as Error).message.split('\n')[0]}\n`);
    client.destroy();
    process.exit(1);
  }
  for (const probe of probes) {
    if (probe.ok !== undefined || probe.visitId === undefined) continue;
    const table = written.get(probe.visitId);
    const reason = dead.get(probe.visitId);
    if (table !== undefined) probe.outcome = `written to ${table}`;
    else if (reason !== undefined) probe.outcome = `dead-lettered: ${reason}`;
    else continue;
    probe.ok = (probe.expect === 'written') === (table !== undefined);
    probe.outcome += ` (${((Date.now() - started) / 1000).toFixed(1)} s)`;
  }
  if (probes.some((p) => p.ok === undefined)) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
}

for (const probe of probes) {
  const outcome = probe.outcome ?? `neither written nor dead-lettered within ${timeoutMs / 1000} s`;
  const id = probe.visitId !== undefined ? ` ${probe.visitId}` : '';
  console.log(`${probe.ok ? 'ok  ' : 'FAIL'} ${probe.name}${id}: ${outcome} (expected: ${probe.expect})`);
}
const failed = probes.filter((p) => !p.ok).length;
console.log(failed === 0 ? 'smoke: every visit ended as it should' : `smoke: ${failed} of ${probes.length} did not end as they should`);
client.destroy();
process.exitCode = failed === 0 ? 0 : 1;
