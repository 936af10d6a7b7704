/**
 * The SQS adapter: every call the processor makes to the PIPELINE and its DLQ.
 * Each call carries the caller's abort signal; calls other than the long poll go through
 * one p-queue so a burst of acknowledgements cannot open unbounded connections.
 * Batch calls answer per entry, by message id: a partial failure names the messages it hit.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type MessageAttributeValue,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type PQueue from 'p-queue';
import type { QueueFacts, QueuePort } from '../../../machines/ports.ts';
import type { BatchCall, DeadLetter, DeadLetterResult, EntryFailure, EntryResult, Lease, QueueMessage, Report } from '../../../machines/types.ts';

/** SQS batch calls take at most 10 entries. */
const MAX_BATCH_ENTRIES = 10;
/** SQS caps a message (body and attributes) and a whole batch request at 1 MiB. */
export const MAX_MESSAGE_BYTES = 1_048_576;
const MAX_BATCH_BYTES = MAX_MESSAGE_BYTES;
/** What SQS allows in a batch entry Id. */
const ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;
/** Message ids recently copied to the DLQ (or maybe copied): a copy whose PIPELINE delete failed is not sent twice. */
const REMEMBERED_DEAD_LETTERS = 10_000;
/** The code of an entry a batch answer named neither successful nor failed. */
export const NOT_IN_ANSWER = 'NotInAnswer';

export class SqsQueueError extends Error {
  override name = 'SqsQueueError';
}

export interface SqsQueueOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  /** Configured DLQ; otherwise found from the PIPELINE's RedrivePolicy by `prepare`. */
  readonly dlqUrl?: string;
  readonly limiter: PQueue;
  /** Lease set on every receive, whatever the queue's own VisibilityTimeout. */
  readonly visibilityTimeoutSeconds?: number;
  /**
   * The client for DLQ sends: best one that makes a single attempt per call, since an attempt whose answer
   * was lost may have been stored, and a retry within the call would send a second copy unseen.
   */
  readonly dlqSendClient?: SQSClient;
  /** Told of failed calls, answers that left entries unnamed and possible DLQ duplicates (logs, metrics). */
  readonly report?: (report: Report) => void;
}

type EntryList = ReadonlyArray<{ Id?: string; Code?: string }>;

/** A batch answer's lists, checked: a list that is not one fails the call. */
function entryLists(answer: unknown, call: string): { successful: EntryList; failed: EntryList } {
  const { Successful = [], Failed = [] } = (answer ?? {}) as { Successful?: unknown; Failed?: unknown };
  if (!Array.isArray(Successful) || !Array.isArray(Failed)) throw new SqsQueueError(`${call}: the answer's Successful or Failed is not a list`);
  return { successful: Successful, failed: Failed };
}

/** How many attempts a call's answer or error says it made (a deadline's error carries the call's own as its cause). */
function attemptsOf(outcome: unknown): number {
  type WithAttempts = { $metadata?: { attempts?: number }; cause?: WithAttempts };
  const o = outcome as WithAttempts | undefined;
  return Math.max(1, o?.$metadata?.attempts ?? o?.cause?.$metadata?.attempts ?? 1);
}

/**
 * Whether SQS certainly did not carry out a failed call: it answered with a client error at the
 * first attempt. Anything else (no answer, a timeout, a server error, an earlier attempt that
 * failed on the way) may have been carried out.
 */
function certainlyRefused(error: unknown): boolean {
  const { $metadata } = (error ?? {}) as { $metadata?: { httpStatusCode?: number; attempts?: number } };
  const status = $metadata?.httpStatusCode ?? 0;
  return status >= 400 && status < 500 && ($metadata?.attempts ?? 1) === 1 && (error as Error).name !== 'SyntaxError';
}

function errorCode(error: unknown): string {
  return error instanceof Error ? error.name : 'Error';
}

function isMissingQueue(error: unknown): boolean {
  const name = errorCode(error);
  return name === 'QueueDoesNotExist' || name === 'AWS.SimpleQueueService.NonExistentQueue';
}

export class SqsQueue implements QueuePort {
  readonly queueUrl: string;
  #dlqUrl: string | undefined;
  readonly #client: SQSClient;
  readonly #dlqSendClient: SQSClient;
  readonly #limiter: PQueue;
  readonly #visibilityTimeoutSeconds: number | undefined;
  readonly #sentToDlq = new Set<string>();
  /** Message ids whose DLQ copy may have been stored though no answer said so: sending again may duplicate it. */
  /** Message id -> how many of its DLQ copies may have been stored without an answer saying so. */
  readonly #maybeInDlq = new Map<string, number>();
  readonly #report: (report: Report) => void;

  constructor(options: SqsQueueOptions) {
    this.#report = options.report ?? (() => {});
    this.queueUrl = options.queueUrl;
    this.#dlqUrl = options.dlqUrl;
    this.#client = options.client;
    this.#dlqSendClient = options.dlqSendClient ?? options.client;
    this.#limiter = options.limiter;
    this.#visibilityTimeoutSeconds = options.visibilityTimeoutSeconds;
  }

  /** Checks the PIPELINE and its DLQ exist; returns the DLQ URL, maxReceiveCount and the queue's visibility timeout. */
  async prepare(signal?: AbortSignal): Promise<QueueFacts> {
    // A configured DLQ is checked while the PIPELINE's attributes are asked for: one round trip
    // less at start. The PIPELINE's answer is read first, so its error is the one reported, and
    // the DLQ's check is called off then (a retry of prepare starts its own).
    const dlqCheck = new AbortController();
    const dlqChecked = this.#dlqUrl ? this.#checkConfiguredDlq(this.#dlqUrl, signal ? AbortSignal.any([signal, dlqCheck.signal]) : dlqCheck.signal) : undefined;
    dlqChecked?.catch(() => {});
    let Attributes: Record<string, string> | undefined;
    try {
      ({ Attributes } = await this.#client.send(
        new GetQueueAttributesCommand({ QueueUrl: this.queueUrl, AttributeNames: ['RedrivePolicy', 'VisibilityTimeout'] }),
        { abortSignal: signal },
      ));
    } catch (error) {
      dlqCheck.abort();
      if (isMissingQueue(error)) throw new SqsQueueError(`queue ${this.queueUrl} does not exist: check TRAFFIC_QUEUE_URL`);
      throw error;
    }
    const policy = Attributes?.RedrivePolicy
      ? (JSON.parse(Attributes.RedrivePolicy) as { deadLetterTargetArn?: string; maxReceiveCount?: number | string })
      : undefined;
    if (dlqChecked) await dlqChecked;
    else {
      if (!policy?.deadLetterTargetArn) {
        throw new SqsQueueError(`queue ${this.queueUrl} has no RedrivePolicy: give it one, or set TRAFFIC_DLQ_URL`);
      }
      const arn = policy.deadLetterTargetArn.split(':');
      try {
        const { QueueUrl } = await this.#client.send(new GetQueueUrlCommand({ QueueName: arn[5], QueueOwnerAWSAccountId: arn[4] }), {
          abortSignal: signal,
        });
        this.#dlqUrl = QueueUrl;
      } catch (error) {
        if (isMissingQueue(error))
          throw new SqsQueueError(`the DLQ ${policy.deadLetterTargetArn} named by the RedrivePolicy of ${this.queueUrl} does not exist`);
        throw error;
      }
    }
    return {
      dlqUrl: this.#dlqUrl!,
      maxReceiveCount: policy?.maxReceiveCount === undefined ? undefined : Number(policy.maxReceiveCount),
      queueVisibilityTimeoutSeconds: Number(Attributes?.VisibilityTimeout ?? 30),
    };
  }

  /**
   * A configured DLQ that does not exist would make every invalid message loop. GetQueueUrl,
   * which the processor may call on the DLQ anyway, answers whether it exists.
   */
  async #checkConfiguredDlq(dlqUrl: string, signal: AbortSignal): Promise<void> {
    const [account, name] = new URL(dlqUrl).pathname.split('/').filter(Boolean).slice(-2);
    try {
      await this.#client.send(
        new GetQueueUrlCommand({ QueueName: name ?? account, ...(/^\d{12}$/.test(account ?? '') && name ? { QueueOwnerAWSAccountId: account } : {}) }),
        { abortSignal: signal },
      );
    } catch (error) {
      if (isMissingQueue(error)) throw new SqsQueueError(`TRAFFIC_DLQ_URL=${dlqUrl} names a queue that does not exist: create it or fix the URL`);
      throw error;
    }
  }

  /** Long-polls up to `maxMessages` (1 to 10), each with the configured lease. */
  async receive(maxMessages: number, waitSeconds: number, signal: AbortSignal): Promise<QueueMessage[]> {
    const { Messages = [] } = await this.#client.send(
      new ReceiveMessageCommand({
        QueueUrl: this.queueUrl,
        MaxNumberOfMessages: Math.min(MAX_BATCH_ENTRIES, Math.max(1, maxMessages)),
        WaitTimeSeconds: waitSeconds,
        ...(this.#visibilityTimeoutSeconds === undefined ? {} : { VisibilityTimeout: this.#visibilityTimeoutSeconds }),
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
      { abortSignal: signal },
    );
    // One receive may list a message twice: it is handled once (else two writes, two DLQ copies), with its last receipt handle.
    const byId = new Map<string, QueueMessage>();
    for (const m of Messages) {
      if (typeof m?.MessageId !== 'string' || typeof m.ReceiptHandle !== 'string') continue;
      byId.delete(m.MessageId);
      byId.set(m.MessageId, {
        messageId: m.MessageId,
        receiptHandle: m.ReceiptHandle,
        body: m.Body,
        receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1),
      });
    }
    return [...byId.values()];
  }

  /** Deletes messages; answers which could not be deleted, by message id. */
  async deleteMessages(leases: readonly Lease[], signal: AbortSignal, call: BatchCall = 'delete'): Promise<EntryResult> {
    return this.#perEntry(call, leases, signal, (entries) =>
      this.#client.send(
        new DeleteMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries.map(({ id, lease }) => ({ Id: id, ReceiptHandle: lease.receiptHandle })) }),
        { abortSignal: signal },
      ),
    );
  }

  /** Sets the visibility timeout of messages (extends a lease, or with 0 releases it); answers which failed, by message id. */
  async changeVisibility(leases: readonly Lease[], seconds: number, signal: AbortSignal): Promise<EntryResult> {
    return this.#perEntry(seconds === 0 ? 'release' : 'extend', leases, signal, (entries) =>
      this.#client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: entries.map(({ id, lease }) => ({ Id: id, ReceiptHandle: lease.receiptHandle, VisibilityTimeout: seconds })),
        }),
        { abortSignal: signal },
      ),
    );
  }

  /**
   * Copies messages to the DLQ with their reason, then deletes from the PIPELINE exactly the
   * ones the DLQ accepted. A message the DLQ did not take stays on the PIPELINE, hidden for
   * `deferSeconds(receiveCount)` so it waits for the DLQ rather than for the redrive policy.
   */
  async deadLetter(given: readonly DeadLetter[], deferSeconds: (receiveCount: number) => number, signal: AbortSignal): Promise<DeadLetterResult> {
    // The DLQ is found on first use when start-up did not look for it (prepare).
    const dlqUrl = this.#dlqUrl ?? (await this.prepare(signal)).dlqUrl;
    // The same message twice (two receives of it met in one send): one copy, with its last lease.
    const letters = [...new Map(given.map((l) => [l.messageId, l])).values()];
    const notSent: EntryFailure[] = [];
    const copies = new Map<string, DlqCopy>();
    const toSend: Array<{ letter: DeadLetter; copy: DlqCopy }> = [];
    for (const letter of letters) {
      const copy = toDlqCopy(letter);
      copies.set(letter.messageId, copy);
      if (!this.#sentToDlq.has(letter.messageId)) toSend.push({ letter, copy });
    }
    const accepted = new Set(letters.filter((l) => this.#sentToDlq.has(l.messageId)).map((l) => l.messageId));
    const possibleDuplicates: string[] = [];
    const batches = chunkByBytes(toSend.map(({ letter, copy }) => ({ ...copy.entry, Id: letter.messageId })));
    await Promise.all(
      batches.map(async (batch) => {
        const ids = batchIds(batch.map((e) => e.Id!));
        try {
          const answer = await this.#limiter.add(
            () =>
              this.#dlqSendClient.send(new SendMessageBatchCommand({ QueueUrl: dlqUrl, Entries: batch.map((e, i) => ({ ...e, Id: ids.ids[i] })) }), {
                abortSignal: signal,
              }),
            { signal },
          );
          const { successful, failed } = entryLists(answer, 'SendMessageBatch');
          // Tried more than once within the call: each earlier attempt may have been stored too.
          const earlierAttempts = attemptsOf(answer) - 1;
          const named = new Set<string>();
          for (const ok of successful) {
            const messageId = ids.byId.get(ok.Id!);
            if (!messageId || named.has(messageId)) continue;
            named.add(messageId);
            accepted.add(messageId);
            const copies = earlierAttempts + (this.#maybeInDlq.get(messageId) ?? 0);
            for (let i = 0; i < copies; i++) possibleDuplicates.push(messageId);
            this.#maybeInDlq.delete(messageId);
          }
          for (const failure of failed) {
            const messageId = ids.byId.get(failure.Id!);
            if (!messageId || named.has(messageId)) continue;
            named.add(messageId);
            notSent.push({ messageId, code: failure.Code ?? 'Failed' });
          }
          // Named in neither list: maybe stored. It stays on the PIPELINE; sent again, it is counted as a possible duplicate.
          const unnamed = batch.map((e) => e.Id!).filter((messageId) => !named.has(messageId));
          if (unnamed.length > 0) {
            this.#report({ kind: 'entries-unanswered', call: 'dlq-send', queue: dlqUrl, messageIds: unnamed });
            for (const messageId of unnamed) {
              this.#maybe(messageId, 1);
              notSent.push({ messageId, code: NOT_IN_ANSWER });
            }
          }
        } catch (error) {
          const refused = certainlyRefused(error);
          for (const entry of batch) if (!refused) this.#maybe(entry.Id!, attemptsOf(error));
          signal.throwIfAborted();
          this.#report({ kind: 'sqs-call-failed', call: 'dlq-send', queue: dlqUrl, entries: batch.length, error });
          for (const entry of batch) notSent.push({ messageId: entry.Id!, code: errorCode(error) });
        }
      }),
    );
    if (possibleDuplicates.length > 0) {
      this.#report({
        kind: 'dlq-possible-duplicate',
        messageIds: possibleDuplicates,
        reason: 'sent again after an earlier send whose answer was lost or did not name it',
      });
    }
    for (const messageId of accepted) this.#remember(messageId);
    const acceptedLetters = letters.filter((l) => accepted.has(l.messageId));
    const { failed: notDeleted } = await this.#deleteWithRetries(acceptedLetters, signal);
    const notDeletedIds = new Set(notDeleted.map((f) => f.messageId));
    for (const letter of acceptedLetters) if (!notDeletedIds.has(letter.messageId)) this.#sentToDlq.delete(letter.messageId);
    // Hidden for a while: each receive counts toward the redrive policy, which would move it without its reason.
    const waiting = letters.filter((l) => notSent.some((f) => f.messageId === l.messageId));
    const bySeconds = new Map<number, DeadLetter[]>();
    for (const letter of waiting) {
      const seconds = deferSeconds(letter.receiveCount);
      bySeconds.set(seconds, [...(bySeconds.get(seconds) ?? []), letter]);
    }
    for (const [seconds, group] of bySeconds) {
      try {
        await this.changeVisibility(group, seconds, signal);
      } catch {
        signal.throwIfAborted();
        // Not hidden: it comes back when its lease ends, and is tried again.
      }
    }
    return {
      sent: acceptedLetters
        .filter((l) => !notDeletedIds.has(l.messageId))
        .map((l) => ({ messageId: l.messageId, reasonKept: copies.get(l.messageId)!.reasonKept })),
      notSent,
      notDeleted,
    };
  }

  /** Deletes, retrying entries that failed (twice); what still fails is returned. */
  async #deleteWithRetries(leases: readonly Lease[], signal: AbortSignal): Promise<EntryResult> {
    let pending: readonly Lease[] = leases;
    let failed: readonly EntryFailure[] = [];
    for (let attempt = 0; attempt < 3 && pending.length > 0; attempt++) {
      ({ failed } = await this.deleteMessages(pending, signal, 'dlq-delete'));
      const again = new Set(failed.map((f) => f.messageId));
      pending = pending.filter((l) => again.has(l.messageId));
    }
    return { failed };
  }

  #remember(messageId: string): void {
    this.#sentToDlq.add(messageId);
    if (this.#sentToDlq.size > REMEMBERED_DEAD_LETTERS) this.#sentToDlq.delete(this.#sentToDlq.values().next().value!);
  }

  #maybe(messageId: string, copies: number): void {
    this.#maybeInDlq.set(messageId, (this.#maybeInDlq.get(messageId) ?? 0) + copies);
    if (this.#maybeInDlq.size > REMEMBERED_DEAD_LETTERS) this.#maybeInDlq.delete(this.#maybeInDlq.keys().next().value!);
  }

  /**
   * Runs a batch call on chunks of 10 through the limiter, each entry's Id its message id.
   * A chunk whose call fails counts all its entries as failed; no chunk's failure hides another's success.
   */
  async #perEntry(
    callName: BatchCall,
    leases: readonly Lease[],
    signal: AbortSignal,
    call: (entries: Array<{ id: string; lease: Lease }>) => Promise<unknown>,
  ): Promise<EntryResult> {
    const chunks: Lease[][] = [];
    for (let i = 0; i < leases.length; i += MAX_BATCH_ENTRIES) chunks.push(leases.slice(i, i + MAX_BATCH_ENTRIES));
    const failed: EntryFailure[] = [];
    let callsFailed = 0;
    await Promise.all(
      chunks.map(async (chunk) => {
        const { ids, byId } = batchIds(chunk.map((l) => l.messageId));
        try {
          const answer = await this.#limiter.add(() => call(chunk.map((lease, i) => ({ id: ids[i], lease }))), { signal });
          const lists = entryLists(answer, callName);
          const named = new Set<string>();
          for (const ok of lists.successful) {
            const messageId = byId.get(ok.Id!);
            if (messageId) named.add(messageId);
          }
          for (const failure of lists.failed) {
            const messageId = byId.get(failure.Id!);
            if (!messageId || named.has(messageId)) continue;
            named.add(messageId);
            failed.push({ messageId, code: failure.Code ?? 'Failed' });
          }
          // An entry the answer does not name was not shown done: it counts as failed.
          const unnamed = chunk.map((l) => l.messageId).filter((messageId) => !named.has(messageId));
          if (unnamed.length > 0) {
            this.#report({ kind: 'entries-unanswered', call: callName, queue: this.queueUrl, messageIds: unnamed });
            for (const messageId of unnamed) failed.push({ messageId, code: NOT_IN_ANSWER });
          }
        } catch (error) {
          signal.throwIfAborted();
          this.#report({ kind: 'sqs-call-failed', call: callName, queue: this.queueUrl, entries: chunk.length, error });
          callsFailed += 1;
          for (const lease of chunk) failed.push({ messageId: lease.messageId, code: errorCode(error) });
          if (callsFailed === chunks.length) throw error;
        }
      }),
    );
    return { failed };
  }
}

/** Batch entry Ids for message ids: the message id itself when SQS allows it, else a stand-in; mapped back. */
export function batchIds(messageIds: readonly string[]): { ids: string[]; byId: Map<string, string> } {
  const byId = new Map<string, string>();
  const ids = messageIds.map((messageId, i) => {
    let id = ENTRY_ID.test(messageId) && !byId.has(messageId) ? messageId : `${messageId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 70)}_${i}`;
    while (byId.has(id)) id = `${id.slice(0, 75)}_${i}`;
    byId.set(id, messageId);
    return id;
  });
  return { ids, byId };
}

interface DlqCopy {
  readonly entry: Omit<SendMessageBatchRequestEntry, 'Id'>;
  /** Whether the reason travels with the copy in full, cut to fit beside the body, or only in the log. */
  readonly reasonKept: 'full' | 'trimmed' | 'log-only';
}

function attribute(value: string): MessageAttributeValue {
  return { DataType: 'String', StringValue: value };
}

/**
 * The DLQ copy of a message: the original body, the reason as message attributes. A body too
 * large to carry them all keeps error_code and as much of error_message as fits; one with no
 * room at all goes alone (its reason is in the log line keyed by its message id).
 */
export function toDlqCopy(letter: DeadLetter, maxBytes = MAX_MESSAGE_BYTES): DlqCopy {
  // SQS rejects an empty body; keep the evidence that it was empty.
  const body = letter.body === undefined || letter.body.length === 0 ? '(empty body)' : letter.body;
  const full = {
    error_code: attribute(letter.reason.code),
    error_message: attribute(letter.reason.message.slice(0, 1024)),
    source_message_id: attribute(letter.messageId),
  };
  if (messageBytes(body, full) <= maxBytes) return { entry: { MessageBody: body, MessageAttributes: full }, reasonKept: 'full' };
  const minimal: Record<string, MessageAttributeValue> = { error_code: full.error_code };
  if (messageBytes(body, minimal) <= maxBytes) {
    const room = maxBytes - messageBytes(body, minimal) - Buffer.byteLength('error_messageString');
    const cut = room > 0 ? cutToBytes(letter.reason.message, room) : '';
    return { entry: { MessageBody: body, MessageAttributes: cut ? { ...minimal, error_message: attribute(cut) } : minimal }, reasonKept: 'trimmed' };
  }
  return { entry: { MessageBody: body }, reasonKept: 'log-only' };
}

function cutToBytes(text: string, maxBytes: number): string {
  let out = text;
  while (Buffer.byteLength(out) > maxBytes) out = out.slice(0, Math.max(0, out.length - Math.max(1, Buffer.byteLength(out) - maxBytes)));
  return out;
}

/** A message's size as SQS counts it: body, and each attribute's name, data type and value. */
export function messageBytes(body: string, attributes: Record<string, MessageAttributeValue> = {}): number {
  let bytes = Buffer.byteLength(body, 'utf8');
  for (const [name, value] of Object.entries(attributes)) {
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value.DataType ?? '') + Buffer.byteLength(value.StringValue ?? '');
  }
  return bytes;
}

/** Groups entries into batches of at most 10 entries and 1 MiB in all. */
export function chunkByBytes(entries: readonly SendMessageBatchRequestEntry[]): SendMessageBatchRequestEntry[][] {
  const batches: SendMessageBatchRequestEntry[][] = [];
  let current: SendMessageBatchRequestEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = messageBytes(entry.MessageBody ?? '', entry.MessageAttributes);
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
