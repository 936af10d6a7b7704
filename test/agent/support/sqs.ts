/** A real SQS endpoint (fauxqs on a free 127.0.0.1 port) with the PIPELINE and its DLQ. */
import { randomUUID } from 'node:crypto';
import { ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { startFauxqs } from 'fauxqs';
import { createPipelineQueues } from '../../../src/processor/embedded.ts';
import { LOCAL_CREDENTIALS } from '../../../src/queues.ts';

export interface TestQueue {
  readonly endpoint: string;
  readonly queueUrl: string;
  readonly dlqUrl: string;
  readonly client: SQSClient;
  /** Every message visible now (received with all attributes; left to reappear after the visibility timeout). */
  receiveAll(queueUrl?: string): Promise<Message[]>;
  stop(): Promise<void>;
}

export async function startTestQueue(names?: { queue: string; dlq: string }): Promise<TestQueue> {
  const server = await startFauxqs({ port: 0, logger: false });
  const endpoint = `http://127.0.0.1:${server.port}`;
  const suffix = randomUUID().slice(0, 8);
  const { queueUrl, dlqUrl } = await createPipelineQueues(endpoint, names ?? { queue: `agent-${suffix}`, dlq: `agent-${suffix}-dlq` });
  const client = new SQSClient({ endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
  return {
    endpoint,
    queueUrl,
    dlqUrl,
    client,
    async receiveAll(url = queueUrl) {
      const all: Message[] = [];
      for (let round = 0; round < 1_000; round++) {
        const { Messages = [] } = await client.send(
          new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 30, MessageAttributeNames: ['All'] }),
        );
        if (Messages.length === 0) break;
        all.push(...Messages);
      }
      return all;
    },
    async stop() {
      client.destroy();
      await server.stop();
    },
  };
}

/** A 127.0.0.1 port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
