/**
 * The SQS adapter: every call the processor makes to the PIPELINE and its DLQ.
 * Each call carries the caller's abort signal; calls other than the long poll go through
 * one p-queue so a burst of acknowledgements cannot open unbounded connections.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type PQueue from 'p-queue';
import type { QueueMessage, RejectedMessage } from '../../machines/types.ts';

/** SQS batch calls take at most 10 entries. */
const MAX_BATCH_ENTRIES = 10;
/** SQS caps a batch request's payload at 256 KiB; keep margin for attributes and encoding. */
const MAX_BATCH_BYTES = 240 * 1024;

export class SqsQueueError extends Error {
  override name = 'SqsQueueError';
}

export interface SqsQueueOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  /** Configured DLQ; otherwise found from the PIPELINE's RedrivePolicy by `prepare`. */
  readonly dlqUrl?: string;
  readonly limiter: PQueue;
}

export class SqsQueue {
  readonly queueUrl: string;
  #dlqUrl: string | undefined;
  readonly #client: SQSClient;
  readonly #limiter: PQueue;

  constructor(options: SqsQueueOptions) {
    this.queueUrl = options.queueUrl;
    this.#dlqUrl = options.dlqUrl;
    this.#client = options.client;
    this.#limiter = options.limiter;
  }

  get dlqUrl(): string | undefined {
    return this.#dlqUrl;
  }

  /** Checks the PIPELINE exists and finds its DLQ; returns the DLQ URL and maxReceiveCount. */
  async prepare(signal?: AbortSignal): Promise<{ dlqUrl: string; maxReceiveCount: number | undefined }> {
    const { Attributes } = await this.#client.send(
      new GetQueueAttributesCommand({ QueueUrl: this.queueUrl, AttributeNames: ['RedrivePolicy', 'VisibilityTimeout'] }),
      { abortSignal: signal },
    );
    const policy = Attributes?.RedrivePolicy ? (JSON.parse(Attributes.RedrivePolicy) as { deadLetterTargetArn?: string; maxReceiveCount?: number | string }) : undefined;
    if (!this.#dlqUrl) {
      if (!policy?.deadLetterTargetArn) {
        throw new SqsQueueError(`queue ${this.queueUrl} has no RedrivePolicy: give it one, or set TRAFFIC_DLQ_URL`);
      }
      const arn = policy.deadLetterTargetArn.split(':');
      const { QueueUrl } = await this.#client.send(new GetQueueUrlCommand({ QueueName: arn[5], QueueOwnerAWSAccountId: arn[4] }), {
        abortSignal: signal,
      });
      this.#dlqUrl = QueueUrl;
    }
    return { dlqUrl: this.#dlqUrl!, maxReceiveCount: policy?.maxReceiveCount === undefined ? undefined : Number(policy.maxReceiveCount) };
  }

  /** Long-polls up to `maxMessages` (1 to 10). */
  async receive(maxMessages: number, waitSeconds: number, signal: AbortSignal): Promise<QueueMessage[]> {
    const { Messages = [] } = await this.#client.send(
      new ReceiveMessageCommand({
        QueueUrl: this.queueUrl,
        MaxNumberOfMessages: Math.min(MAX_BATCH_ENTRIES, Math.max(1, maxMessages)),
        WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
      { abortSignal: signal },
    );
    return Messages.map((m) => ({
      messageId: m.MessageId!,
      receiptHandle: m.ReceiptHandle!,
      body: m.Body,
      receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1),
    }));
  }

  /** Deletes messages (chunks of 10 in parallel); returns how many could not be deleted. */
  async deleteMessages(receiptHandles: readonly string[], signal: AbortSignal): Promise<{ failed: number }> {
    const failed = await this.#eachChunk(receiptHandles, async (chunk) => {
      const { Failed = [] } = await this.#client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: chunk.map((handle, i) => ({ Id: String(i), ReceiptHandle: handle })),
        }),
        { abortSignal: signal },
      );
      return Failed.length;
    }, signal);
    return { failed };
  }

  /** Sets the visibility timeout of messages: extends a lease, or with 0 releases it. */
  async changeVisibility(receiptHandles: readonly string[], seconds: number, signal: AbortSignal): Promise<{ failed: number }> {
    const failed = await this.#eachChunk(receiptHandles, async (chunk) => {
      const { Failed = [] } = await this.#client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: chunk.map((handle, i) => ({ Id: String(i), ReceiptHandle: handle, VisibilityTimeout: seconds })),
        }),
        { abortSignal: signal },
      );
      return Failed.length;
    }, signal);
    return { failed };
  }

  /**
   * Sends rejected messages to the DLQ with their reason, then deletes them from the PIPELINE.
   * Only what the DLQ accepted is deleted; the rest stays on the PIPELINE and is tried again.
   */
  async deadLetter(rejected: readonly RejectedMessage[], signal: AbortSignal): Promise<void> {
    const dlqUrl = this.#dlqUrl;
    if (!dlqUrl) throw new SqsQueueError('DLQ URL unknown: prepare() was not called');
    const accepted: string[] = [];
    let failures = 0;
    await Promise.all(
      chunkByBytes(rejected.map(toDlqEntry)).map((entries) =>
        this.#limiter.add(
          async () => {
            const { Successful = [], Failed = [] } = await this.#client.send(new SendMessageBatchCommand({ QueueUrl: dlqUrl, Entries: entries }), {
              abortSignal: signal,
            });
            failures += Failed.length;
            for (const ok of Successful) accepted.push(rejected[Number(ok.Id)].message.receiptHandle);
          },
          { signal },
        ),
      ),
    );
    const { failed } = await this.deleteMessages(accepted, signal);
    if (failures > 0 || failed > 0) {
      throw new SqsQueueError(`${failures} message(s) not accepted by the DLQ, ${failed} not deleted from the PIPELINE`);
    }
  }

  /** Runs `call` on chunks of 10 through the limiter; sums what each returns. */
  async #eachChunk(items: readonly string[], call: (chunk: readonly string[]) => Promise<number>, signal: AbortSignal): Promise<number> {
    const chunks: string[][] = [];
    for (let i = 0; i < items.length; i += MAX_BATCH_ENTRIES) chunks.push(items.slice(i, i + MAX_BATCH_ENTRIES));
    const counts = await Promise.all(chunks.map((chunk) => this.#limiter.add(() => call(chunk), { signal })));
    return counts.reduce((sum: number, n) => sum + (n ?? 0), 0);
  }
}

/** The DLQ copy of a rejected message: the original body, the reason as message attributes. */
function toDlqEntry({ message, rejection }: RejectedMessage, index: number): SendMessageBatchRequestEntry {
  return {
    Id: String(index),
    // SQS rejects an empty body; keep the evidence that it was empty.
    MessageBody: message.body === undefined || message.body.length === 0 ? '(empty body)' : message.body,
    MessageAttributes: {
      error_code: { DataType: 'String', StringValue: rejection.code },
      error_message: { DataType: 'String', StringValue: rejection.message.slice(0, 1024) },
      source_message_id: { DataType: 'String', StringValue: message.messageId },
    },
  };
}

function entryBytes(entry: SendMessageBatchRequestEntry): number {
  let bytes = Buffer.byteLength(entry.MessageBody ?? '', 'utf8');
  for (const [name, value] of Object.entries(entry.MessageAttributes ?? {})) {
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value.StringValue ?? '') + 16;
  }
  return bytes;
}

/** Groups entries into batches of at most 10 entries and MAX_BATCH_BYTES. */
export function chunkByBytes(entries: readonly SendMessageBatchRequestEntry[]): SendMessageBatchRequestEntry[][] {
  const batches: SendMessageBatchRequestEntry[][] = [];
  let current: SendMessageBatchRequestEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = entryBytes(entry);
    if (current.length > 0 && (current.length === MAX_BATCH_ENTRIES || bytes + size > MAX_BATCH_BYTES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
