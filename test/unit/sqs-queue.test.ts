/**
 * The SQS adapter's batch bookkeeping with a scripted client: partial failures are answered per
 * message id, and the PIPELINE loses exactly the messages the DLQ accepted; a failed start-up
 * check calls off the one beside it.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import test from 'ava';
import PQueue from 'p-queue';
import type { DeadLetter } from '../../machines/types.ts';
import { SqsQueue } from '../../src/processor/sqs-queue.ts';

type Entry = { Id: string; ReceiptHandle?: string; MessageBody?: string };
type Script = (command: { constructor: unknown; input: { Entries: Entry[] } }, call: number) => unknown;

function scripted(script: Script) {
  const calls: Array<{ command: string; ids: string[] }> = [];
  const client = {
    async send(command: { constructor: { name: string }; input: { Entries: Entry[] } }) {
      calls.push({ command: command.constructor.name, ids: command.input.Entries?.map((e) => e.Id) ?? [] });
      return script(command, calls.length);
    },
  } as unknown as SQSClient;
  const queue = new SqsQueue({ client, queueUrl: 'q', dlqUrl: 'dlq', limiter: new PQueue({ concurrency: 1 }) });
  return { queue, calls };
}

const never = new AbortController().signal;
const leases = (n: number) => Array.from({ length: n }, (_, i) => ({ messageId: `msg-${i}`, receiptHandle: `h${i}` }));
const letters = (n: number): DeadLetter[] =>
  leases(n).map((l) => ({ ...l, body: `bad ${l.messageId}`, receiveCount: 1, reason: { code: 'malformed_json', message: 'body is not valid JSON' } }));

test('a partial DeleteMessageBatch answers the failed entries by message id, across chunks', async (t) => {
  const { queue, calls } = scripted((command) => {
    if (!(command instanceof DeleteMessageBatchCommand)) throw new Error('unexpected');
    const entries = command.input.Entries!;
    return {
      Successful: entries.filter((e) => e.Id !== 'msg-3' && e.Id !== 'msg-12').map((e) => ({ Id: e.Id })),
      Failed: [
        { Id: 'msg-3', Code: 'InternalError' },
        { Id: 'msg-12', Code: 'InternalError' },
      ].filter((f) => entries.some((e) => e.Id === f.Id)),
    };
  });
  const { failed } = await queue.deleteMessages(leases(15), never);
  t.deepEqual(failed.map((f) => [f.messageId, f.code]).sort(), [
    ['msg-12', 'InternalError'],
    ['msg-3', 'InternalError'],
  ]);
  t.deepEqual(
    calls.map((c) => c.ids.length),
    [10, 5],
  );
  t.deepEqual(calls[0].ids.slice(0, 3), ['msg-0', 'msg-1', 'msg-2'], 'entry Id is the message id');
});

test('one chunk whose call fails counts its entries as failed without hiding the other chunk', async (t) => {
  const { queue } = scripted((command, call) => {
    if (!(command instanceof ChangeMessageVisibilityBatchCommand)) throw new Error('unexpected');
    if (call === 1) throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
    return { Successful: command.input.Entries!.map((e) => ({ Id: e.Id })), Failed: [] };
  });
  const { failed } = await queue.changeVisibility(leases(12), 30, never);
  t.is(failed.length, 10);
  t.true(failed.every((f) => f.code === 'TimeoutError'));
});

test('the PIPELINE loses exactly the messages the DLQ accepted: a failed chunk and a failed entry stay', async (t) => {
  const deleted: string[] = [];
  const { queue } = scripted((command, call) => {
    if (command instanceof SendMessageBatchCommand) {
      const entries = command.input.Entries!;
      if (entries.some((e) => e.Id === 'msg-10')) throw Object.assign(new Error('too long'), { name: 'BatchRequestTooLong' });
      return { Successful: entries.filter((e) => e.Id !== 'msg-4').map((e) => ({ Id: e.Id })), Failed: [{ Id: 'msg-4', Code: 'InternalError' }] };
    }
    if (command instanceof DeleteMessageBatchCommand) {
      deleted.push(...command.input.Entries!.map((e) => e.ReceiptHandle!));
      return { Successful: command.input.Entries!.map((e) => ({ Id: e.Id })), Failed: [] };
    }
    if (command instanceof ChangeMessageVisibilityBatchCommand) return { Successful: command.input.Entries!.map((e) => ({ Id: e.Id })), Failed: [] };
    throw new Error(`unexpected call ${call}`);
  });
  const result = await queue.deadLetter(letters(12), () => 60, never);
  t.deepEqual(result.sent.map((s) => s.messageId).sort(), ['msg-0', 'msg-1', 'msg-2', 'msg-3', 'msg-5', 'msg-6', 'msg-7', 'msg-8', 'msg-9'].sort());
  t.deepEqual(result.notSent.map((f) => f.messageId).sort(), ['msg-10', 'msg-11', 'msg-4']);
  t.deepEqual(deleted.sort(), ['h0', 'h1', 'h2', 'h3', 'h5', 'h6', 'h7', 'h8', 'h9'].sort());
});

test('a DLQ copy whose PIPELINE delete failed is not sent again when the message comes back', async (t) => {
  let sends = 0;
  let deletes = 0;
  const { queue } = scripted((command) => {
    if (command instanceof SendMessageBatchCommand) {
      sends += command.input.Entries!.length;
      return { Successful: command.input.Entries!.map((e) => ({ Id: e.Id })), Failed: [] };
    }
    if (command instanceof DeleteMessageBatchCommand) {
      deletes += 1;
      // The first three delete calls (one try and two retries) fail.
      return deletes <= 3
        ? { Successful: [], Failed: command.input.Entries!.map((e) => ({ Id: e.Id, Code: 'InternalError' })) }
        : { Successful: command.input.Entries!.map((e) => ({ Id: e.Id })), Failed: [] };
    }
    throw new Error('unexpected');
  });
  const first = await queue.deadLetter(letters(1), () => 60, never);
  t.is(first.notDeleted.length, 1);
  const again = await queue.deadLetter(letters(1), () => 60, never);
  t.deepEqual(
    again.sent.map((s) => s.messageId),
    ['msg-0'],
  );
  t.is(sends, 1, 'one copy in the DLQ');
});

test('a start-up check of the PIPELINE that fails calls off the DLQ check it started beside it', async (t) => {
  let dlqSignal: AbortSignal | undefined;
  const client = {
    send(command: object, options?: { abortSignal?: AbortSignal }) {
      if (command instanceof GetQueueAttributesCommand) return Promise.reject(new Error('connection reset'));
      if (!(command instanceof GetQueueUrlCommand)) throw new Error('unexpected');
      // An endpoint that does not answer this one: it ends only when aborted.
      dlqSignal = options?.abortSignal;
      return new Promise((_, reject) => dlqSignal?.addEventListener('abort', () => reject(dlqSignal?.reason)));
    },
  } as unknown as SQSClient;
  const queue = new SqsQueue({ client, queueUrl: 'q', dlqUrl: 'http://sqs.local/000000000000/dlq', limiter: new PQueue({ concurrency: 1 }) });
  await t.throwsAsync(queue.prepare(never), { message: 'connection reset' });
  t.true(dlqSignal?.aborted, 'the DLQ check is aborted, not left to run into the next attempt');
});
