/**
 * The floor the agent is compared with: a handler doing nothing but the same SendMessage with
 * the same client, no validation, no CORS, no log line.
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { createSqsClient } from '../../../src/platform/sqs.ts';

const client = createSqsClient({ endpoint: process.env.AWS_ENDPOINT_URL, region: 'us-east-1', localCredentials: true });

export async function handler(event: { body?: string }): Promise<{ statusCode: number; body: string }> {
  const { url } = JSON.parse(event.body ?? '{}') as { url?: string };
  await client.send(
    new SendMessageCommand({
      QueueUrl: process.env.TRAFFIC_QUEUE_URL,
      MessageBody: JSON.stringify({ type: 'referrer', created_at: Date.now(), url }),
      MessageAttributes: { visit_type: { DataType: 'String', StringValue: 'referrer' } },
    }),
  );
  return { statusCode: 202, body: '{}' };
}
