/** A real SQS-compatible endpoint (fauxqs) for functional tests, with the PIPELINE and DLQ. */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { ReceiveMessageCommand, DeleteMessageBatchCommand, type SQSClient, type Message } from '@aws-sdk/client-sqs';
import { startFauxqs } from 'fauxqs';
import pino from 'pino';
import { loadConfig } from '../../src/processor/config/config.ts';
import type { Tuning } from '../../src/processor/config/tuning.ts';
import { createPipelineQueues } from '../../src/processor/sqs/embedded.ts';
import { startProcessor, type ProcessorHandle } from '../../src/processor/processor.ts';
import type { Reporter } from '../../src/processor/runtime/report.ts';
import type { StoragePort } from '../../machines/ports.ts';
import { localSqsClient } from '../../src/platform/sqs.ts';
import type { ExecutionContext } from 'ava';
import { type BurstMessage, makeBurst, sendBurst } from '../../scripts/support/burst.ts';
import { seededRandom } from '../../scripts/support/random.ts';

export interface TestEndpoint {
  readonly endpoint: string;
  readonly queueUrl: string;
  readonly dlqUrl: string;
  readonly client: SQSClient;
  stop(): Promise<void>;
}

export interface TestEndpointOptions {
  readonly names?: { queue: string; dlq: string };
  readonly visibilityTimeoutSeconds?: number;
  readonly maxReceiveCount?: number;
}

export async function startTestEndpoint(options: TestEndpointOptions = {}): Promise<TestEndpoint> {
  const server = await startFauxqs({ port: 0, logger: false });
  const endpoint = `http://127.0.0.1:${server.port}`;
  const suffix = randomUUID().slice(0, 8);
  const names = options.names ?? { queue: `test-${suffix}`, dlq: `test-${suffix}-dlq` };
  const { queueUrl, dlqUrl } = await createPipelineQueues(endpoint, names, options);
  const client = localSqsClient(endpoint);
  return {
    endpoint,
    queueUrl,
    dlqUrl,
    client,
    stop: async () => {
      client.destroy();
      await server.stop();
    },
  };
}

export { queueDepth } from '../../scripts/support/queue-depth.ts';

/** Receives and deletes everything visible in a queue (the DLQ, to inspect it). */
export async function drainQueue(client: SQSClient, queueUrl: string): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageAttributeNames: ['All'] }),
    );
    if (Messages.length === 0) return all;
    all.push(...Messages);
    await client.send(
      new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }),
    );
  }
}

/** A free 127.0.0.1 port (bound, then released): nothing listens there until a test starts something. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The real processor on a test endpoint, silent, configured from `env` like `npm start` is, with `tuning` in place of constants. */
export function startTestProcessor(
  sqs: Pick<TestEndpoint, 'endpoint' | 'queueUrl'> & { dlqUrl?: string },
  storage: StoragePort,
  env: Record<string, string> = {},
  onReport?: Reporter,
  tuning: Partial<Tuning> = {},
): ProcessorHandle {
  return startProcessor({
    config: loadConfig({ POLLERS: '4', RECEIVE_WAIT_SECONDS: '1', ...env }, tuning),
    endpoint: sqs.endpoint,
    queueUrl: sqs.queueUrl,
    dlqUrl: sqs.dlqUrl,
    storage,
    logger: pino({ level: 'silent' }),
    onReport,
  });
}

/** A test endpoint, stopped when the test ends, preloaded with `count` valid visits (a seeded burst). */
export async function endpointWithBurst(
  t: ExecutionContext,
  count: number,
  seed: number,
  options?: TestEndpointOptions,
): Promise<{ sqs: TestEndpoint; burst: BurstMessage[] }> {
  const sqs = await startTestEndpoint(options);
  t.teardown(() => sqs.stop());
  const burst = makeBurst(count, 0, seededRandom(seed));
  await sendBurst(sqs.client, sqs.queueUrl, burst);
  return { sqs, burst };
}
