/** The agent's only I/O: one SendMessage per visit on the PIPELINE. */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { createSqsClient } from '../platform/sqs.ts';
import type { SendVisit } from './agent.ts';
import type { AgentConfig } from './config.ts';

export interface SqsSender {
  readonly send: SendVisit;
  readonly client: SQSClient;
  /** Closes the client's sockets (long-running callers; Lambda just freezes). */
  close(): void;
}

/** What sending needs of the agent's configuration. */
export type SenderConfig = Omit<AgentConfig, 'allowedOrigins'>;

export function createSqsSender(config: SenderConfig, client: SQSClient = createSqsClient(config)): SqsSender {
  const send: SendVisit = async (message, signal) => {
    await client.send(
      new SendMessageCommand({
        QueueUrl: config.queueUrl,
        MessageBody: message.body,
        MessageAttributes: { visit_type: { DataType: 'String', StringValue: message.visitType } },
      }),
      signal !== undefined ? { abortSignal: signal } : {},
    );
  };
  return { send, client, close: () => client.destroy() };
}
