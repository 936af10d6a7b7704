/** A real SQS endpoint (fauxqs on a free 127.0.0.1 port) with the PIPELINE and its DLQ. */
import { randomUUID } from 'node:crypto';
import { ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { freePort, startTestEndpoint } from '../../support/sqs.ts';

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
  const suffix = randomUUID().slice(0, 8);
  const sqs = await startTestEndpoint({ names: names ?? { queue: `agent-${suffix}`, dlq: `agent-${suffix}-dlq` } });
  return {
    ...sqs,
    async receiveAll(url = sqs.queueUrl) {
      const all: Message[] = [];
      for (let round = 0; round < 1_000; round++) {
        const { Messages = [] } = await sqs.client.send(
          new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 30, MessageAttributeNames: ['All'] }),
        );
        if (Messages.length === 0) break;
        all.push(...Messages);
      }
      return all;
    },
  };
}

/** A 127.0.0.1 port nothing listens on. */
export const closedPort = freePort;
