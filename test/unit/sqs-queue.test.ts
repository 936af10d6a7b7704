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
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import test from 'ava';
import PQueue from 'p-queue';
import type { DeadLetter, Report } from '../../machines/types.ts';
import { SqsQueue } from '../../src/processor/sqs/queue.ts';

type Entry = { Id: string; ReceiptHandle?: string; MessageBody?: string };
type Script = (command: { constructor: unknown; input: { Entries: Entry[] } }, call: number) => unknown;

function scripted(script: Script) {
  const calls: Array<{ command: string; ids: string[] }> = [];
  const reports: Report[] = [];
  const client = {
    async send(command: { constructor: { name: string }; input: { Entries: Entry[] } }) {
      calls.push({ command: command.constructor.name, ids: command.input.Entries?.map((e) => e.Id) ?? [] });
      return script(command, calls.length);
    },
  } as unknown as SQSClient;
  const queue = new SqsQueue({ client, queueUrl: 'q', dlqUrl: 'dlq', limiter: new PQueue({ concurrency: 1 }), report: (r) => reports.push(r) });
  return { queue, calls, reports };
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

const kinds = (reports: readonly Report[]) => reports.map((r) => r.kind);
const sentOk = (command: { input: { Entries: Entry[] } }, attempts = 1) => ({
  Successful: command.input.Entries.map((e) => ({ Id: e.Id, MessageId: `dlq-${e.Id}` })),
  Failed: [],
  $metadata: { attempts },
});

test('a batch answer that names an entry neither successful nor failed makes it failed, with one report per answer', async (t) => {
  const { queue, reports } = scripted((command) => {
    const entries = command.input.Entries;
    // Only the first entry named: the rest are in neither list.
    return { Successful: [{ Id: entries[0]!.Id }], Failed: [] };
  });
  const deleted = await queue.deleteMessages(leases(3), never);
  t.deepEqual(
    deleted.failed.map((f) => [f.messageId, f.code]),
    [
      ['msg-1', 'NotInAnswer'],
      ['msg-2', 'NotInAnswer'],
    ],
  );
  const released = await queue.changeVisibility(leases(2), 0, never);
  t.deepEqual(
    released.failed.map((f) => f.messageId),
    ['msg-1'],
  );
  t.deepEqual(kinds(reports), ['entries-unanswered', 'entries-unanswered']);
  t.like(reports[1], { call: 'release', messageIds: ['msg-1'] });
  // An answer whose lists are not lists fails the call, as any other failure.
  const broken = scripted(() => ({ Successful: 'all of them' }));
  await t.throwsAsync(broken.queue.deleteMessages(leases(2), never), { message: /not a list/ });
  t.deepEqual(kinds(broken.reports), ['sqs-call-failed']);
});

test('a receive that lists the same message twice hands it on once, with its last receipt handle', async (t) => {
  const message = (handle: string) => ({ MessageId: 'm-1', ReceiptHandle: handle, Body: '{}', Attributes: { ApproximateReceiveCount: '1' } });
  const { queue } = scripted((command) => {
    if (!(command instanceof ReceiveMessageCommand)) throw new Error('unexpected');
    return { Messages: [message('h-1'), { ...message('h-x'), MessageId: 'm-2' }, message('h-2')] };
  });
  const received = await queue.receive(10, 0, never);
  t.deepEqual(
    received.map((m) => [m.messageId, m.receiptHandle]),
    [
      ['m-2', 'h-x'],
      ['m-1', 'h-2'],
    ],
  );
});

test('the same message twice in one DLQ send is copied once', async (t) => {
  const { queue, calls } = scripted((command) =>
    command instanceof SendMessageBatchCommand ? sentOk(command) : { Successful: command.input.Entries.map((e) => ({ Id: e.Id })) },
  );
  const twice = [...letters(2), letters(1)[0]!];
  const result = await queue.deadLetter(twice, () => 60, never);
  t.deepEqual(calls[0], { command: 'SendMessageBatchCommand', ids: ['msg-0', 'msg-1'] });
  t.is(result.sent.length, 2);
});

test('a DLQ send whose answer is lost is not counted as refused: sent again later, the copy is reported as a possible duplicate', async (t) => {
  let lose = true;
  const { queue, reports } = scripted((command) => {
    if (command instanceof SendMessageBatchCommand) {
      if (lose) throw Object.assign(new Error('no answer within 5000 ms'), { name: 'DeadlineError' });
      return sentOk(command);
    }
    return { Successful: command.input.Entries.map((e) => ({ Id: e.Id })) };
  });
  const first = await queue.deadLetter(letters(2), () => 60, never);
  t.deepEqual(
    first.notSent.map((f) => f.code),
    ['DeadlineError', 'DeadlineError'],
  );
  t.true(kinds(reports).includes('sqs-call-failed'), 'one line for the failed call');
  lose = false;
  const second = await queue.deadLetter(letters(2), () => 60, never);
  t.is(second.sent.length, 2);
  const duplicates = reports.filter((r) => r.kind === 'dlq-possible-duplicate');
  t.deepEqual(
    duplicates.map((r) => (r as { messageIds: readonly string[] }).messageIds),
    [['msg-0', 'msg-1']],
  );
});

test('a DLQ send refused outright (a client error at the first attempt) is sent again without counting a duplicate; one tried twice within the call is counted', async (t) => {
  let call = 0;
  const { queue, reports } = scripted((command) => {
    if (command instanceof SendMessageBatchCommand) {
      call += 1;
      if (call === 1) throw Object.assign(new Error('slow down'), { name: 'RequestThrottled', $metadata: { httpStatusCode: 400, attempts: 1 } });
      return sentOk(command, call === 3 ? 2 : 1);
    }
    return { Successful: command.input.Entries.map((e) => ({ Id: e.Id })) };
  });
  await queue.deadLetter(letters(1), () => 60, never);
  await queue.deadLetter(letters(1), () => 60, never);
  t.deepEqual(kinds(reports), ['sqs-call-failed']);
  // Another message, sent once by the processor but twice within the call (an attempt whose answer was lost, then a retry).
  const other = letters(2).slice(1);
  await queue.deadLetter(other, () => 60, never);
  t.like(reports.at(-1), { kind: 'dlq-possible-duplicate', messageIds: ['msg-1'] });
});

test('a DLQ send answer that names no entry leaves them on the PIPELINE, reported once; sent again, they are counted as possible duplicates', async (t) => {
  let silent = true;
  const { queue, reports } = scripted((command) => {
    if (command instanceof SendMessageBatchCommand) return silent ? { Successful: [], Failed: [] } : sentOk(command);
    return { Successful: command.input.Entries.map((e) => ({ Id: e.Id })) };
  });
  const first = await queue.deadLetter(letters(3), () => 60, never);
  t.is(first.sent.length, 0);
  t.deepEqual(new Set(first.notSent.map((f) => f.code)), new Set(['NotInAnswer']));
  t.deepEqual(kinds(reports), ['entries-unanswered']);
  silent = false;
  await queue.deadLetter(letters(3), () => 60, never);
  t.like(reports.at(-1), { kind: 'dlq-possible-duplicate', messageIds: ['msg-0', 'msg-1', 'msg-2'] });
});
