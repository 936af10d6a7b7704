/** How many messages a queue holds: for tools and tests that wait for a queue to drain. */
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** Visible and in-flight (received, not yet deleted) message counts of a queue. */
export async function queueDepth(client: SQSClient, queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const { Attributes = {} } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return { visible: Number(Attributes.ApproximateNumberOfMessages), inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible) };
}
