/**
 * Looking into a queue without taking from it: messages received under a short lease (so one
 * look never shows a message twice), then handed back with visibility 0, visible at once to a
 * redrive or the next look. For `npm run dlq` and `npm run smoke`.
 */
import { ChangeMessageVisibilityBatchCommand, type Message, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** How long a look holds what it shows; what a failed hand-back costs. */
export const PEEK_LEASE_SECONDS = 30;
const CALL_DEADLINE_MS = 10_000;
const deadline = () => ({ abortSignal: AbortSignal.timeout(CALL_DEADLINE_MS) });

/** Up to `max` messages now visible on `queueUrl`, with their attributes; hand them back after. */
export async function peekMessages(client: SQSClient, queueUrl: string, max: number): Promise<Message[]> {
  const held: Message[] = [];
  while (held.length < max) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(10, max - held.length),
        VisibilityTimeout: PEEK_LEASE_SECONDS,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
      deadline(),
    );
    if (Messages.length === 0) break;
    held.push(...Messages);
  }
  return held;
}

/** Makes `messages` visible again at once; one line per batch it could not hand back. */
export async function handBack(client: SQSClient, queueUrl: string, messages: readonly Message[]): Promise<string[]> {
  const problems: string[] = [];
  for (let i = 0; i < messages.length; i += 10) {
    const batch = messages.slice(i, i + 10);
    let reason: string | undefined;
    try {
      const answer = await client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: batch.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 })),
        }),
        deadline(),
      );
      if (answer.Failed?.length) reason = `${answer.Failed.length} refused: ${answer.Failed[0]!.Code ?? answer.Failed[0]!.Message}`;
    } catch (error) {
      reason = (error as Error).message;
    }
    if (reason !== undefined)
      problems.push(`could not hand ${batch.length} message(s) back (${reason}): they are visible again within ${PEEK_LEASE_SECONDS} s`);
  }
  return problems;
}
