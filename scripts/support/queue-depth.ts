/** How many messages a queue holds: for tools and tests that wait for a queue to drain. */
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** Visible messages, and invisible ones (received, lease running): SQS's ApproximateNumberOfMessages and ...NotVisible. */
export async function queueDepth(client: SQSClient, queueUrl: string): Promise<{ visible: number; invisible: number }> {
  const { Attributes = {} } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return { visible: Number(Attributes.ApproximateNumberOfMessages), invisible: Number(Attributes.ApproximateNumberOfMessagesNotVisible) };
}
