/**
 * The competitors, each draining one queue with the same number of pollers, the same
 * client latency and the same storage: the traffic processor, sqs-consumer with
 * handleMessageBatch, a naive one-at-a-time worker, a bare loop (receive, validate, write,
 * DeleteMessageBatch) and the receive + delete limit, which sends through the processor's own
 * client (worker.ts) so that no competitor's SQS calls cost less than its.
 */
import { DeleteMessageBatchCommand, DeleteMessageCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from 'pino';
import { Consumer } from 'sqs-consumer';
import { parseVisitBody, type Visit } from '../../src/contract/visit.ts';
import { visitType, type VisitTypeName } from '../../src/contract/visit-types.ts';
import { loadConfig } from '../../src/processor/config/config.ts';
import { startProcessor } from '../../src/processor/processor.ts';
import type { BenchStorage } from './harness.ts';

export const COMPETITORS = ['processor', 'sqs-consumer', 'naive', 'loop', 'limit'] as const;
export type Competitor = (typeof COMPETITORS)[number];

export interface RunContext {
  readonly client: SQSClient;
  readonly endpoint: string;
  readonly queueUrl: string;
  readonly dlqUrl: string;
  readonly pollers: number;
  readonly storage: BenchStorage;
  /** The processor's own logger (JSON, info level, like `npm start`). */
  readonly logger: Logger;
  /** Resolves once the queue is drained. */
  readonly drained: Promise<void>;
  /** Messages deleted without a write (invalid ones, and everything for the limit). */
  discarded: number;
}

const never = new AbortController().signal;

/** Valid visits of a batch grouped by type; invalid ones counted. */
function sortBodies(messages: readonly Message[]): { byType: Map<VisitTypeName, Visit[]>; invalid: number } {
  const byType = new Map<VisitTypeName, Visit[]>();
  let invalid = 0;
  for (const message of messages) {
    const parsed = parseVisitBody(message.Body, message.MessageId!);
    if (!parsed.ok) {
      invalid += 1;
      continue;
    }
    const visits = byType.get(parsed.visit.type);
    if (visits) visits.push(parsed.visit);
    else byType.set(parsed.visit.type, [parsed.visit]);
  }
  return { byType, invalid };
}

/** The processor's configuration in the benchmark: defaults, but the competitors' pollers and wait. */
export function processorConfig(pollers: number) {
  return loadConfig({ POLLERS: String(pollers), RECEIVE_WAIT_SECONDS: '1', MAX_IN_FLIGHT: String(Math.max(2000, pollers * 40)) });
}

async function runProcessor(ctx: RunContext): Promise<void> {
  const processor = startProcessor({
    config: processorConfig(ctx.pollers),
    endpoint: ctx.endpoint,
    queueUrl: ctx.queueUrl,
    dlqUrl: ctx.dlqUrl,
    storage: ctx.storage,
    logger: ctx.logger,
    client: ctx.client,
  });
  await ctx.drained;
  processor.stop();
  await processor.done;
}

async function runSqsConsumer(ctx: RunContext): Promise<void> {
  const consumers = Array.from({ length: ctx.pollers }, () =>
    Consumer.create({
      queueUrl: ctx.queueUrl,
      sqs: ctx.client,
      batchSize: 10,
      waitTimeSeconds: 1,
      handleMessageBatch: async (messages) => {
        const { byType, invalid } = sortBodies(messages);
        ctx.discarded += invalid;
        await Promise.all([...byType].map(([type, visits]) => ctx.storage.writeBatch(visitType(type), visits, never)));
        return messages;
      },
    }),
  );
  for (const consumer of consumers) consumer.start();
  await ctx.drained;
  for (const consumer of consumers) consumer.stop();
}

/** A poller loop that stops once the queue is drained. */
async function pollLoops(ctx: RunContext, handle: (messages: Message[]) => Promise<void>): Promise<void> {
  let done = false;
  void ctx.drained.then(() => (done = true));
  const loop = async () => {
    while (!done) {
      const { Messages = [] } = await ctx.client.send(new ReceiveMessageCommand({ QueueUrl: ctx.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      if (Messages.length > 0) await handle(Messages);
    }
  };
  await Promise.all(Array.from({ length: ctx.pollers }, loop));
}

/** What a first worker does: each visit written, each message deleted, one at a time. */
function runNaive(ctx: RunContext): Promise<void> {
  return pollLoops(ctx, async (messages) => {
    for (const message of messages) {
      const parsed = parseVisitBody(message.Body, message.MessageId!);
      if (parsed.ok) await ctx.storage.writeBatch(visitType(parsed.visit.type), [parsed.visit], never);
      else ctx.discarded += 1;
      await ctx.client.send(new DeleteMessageCommand({ QueueUrl: ctx.queueUrl, ReceiptHandle: message.ReceiptHandle! }));
    }
  });
}

/** The bare loop: each receive validated, written by type, then deleted in one batch call. */
function runLoop(ctx: RunContext): Promise<void> {
  return pollLoops(ctx, async (messages) => {
    const { byType, invalid } = sortBodies(messages);
    ctx.discarded += invalid;
    await Promise.all([...byType].map(([type, visits]) => ctx.storage.writeBatch(visitType(type), visits, never)));
    await ctx.client.send(
      new DeleteMessageBatchCommand({ QueueUrl: ctx.queueUrl, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }),
    );
  });
}

/**
 * The limit: each poller receives back to back, and deletes what it got without waiting for the
 * delete before its next receive; nothing is parsed or written. With P pollers, msg/s can be no
 * more than P × 10 over the time of a receive, whatever a worker does between receives.
 */
async function runLimit(ctx: RunContext): Promise<void> {
  const deletes: Promise<unknown>[] = [];
  await pollLoops(ctx, async (messages) => {
    const entries = messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! }));
    const deleted = ctx.client.send(new DeleteMessageBatchCommand({ QueueUrl: ctx.queueUrl, Entries: entries })).then(() => {
      ctx.discarded += messages.length;
    });
    // Awaited together below: a failed delete fails the run there, never as an unhandled rejection.
    deleted.catch(() => {});
    deletes.push(deleted);
  });
  await Promise.all(deletes);
}

export function runCompetitor(name: Competitor, ctx: RunContext): Promise<void> {
  switch (name) {
    case 'processor':
      return runProcessor(ctx);
    case 'sqs-consumer':
      return runSqsConsumer(ctx);
    case 'naive':
      return runNaive(ctx);
    case 'loop':
      return runLoop(ctx);
    case 'limit':
      return runLimit(ctx);
  }
}
