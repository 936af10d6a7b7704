/**
 * Wires the pure machines to their I/O: the SQS adapter, the storage port, the credit pool
 * and the concurrency limits. The machines name their actors in setup(); here they are provided.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import PQueue from 'p-queue';
import type { Logger } from 'pino';
import { createActor, fromPromise, toPromise, type Actor, type InspectionEvent } from 'xstate';
import { batchMachine } from '../../machines/batch.ts';
import { CreditPool } from '../../machines/credit-pool.ts';
import { pollerMachine } from '../../machines/poller.ts';
import { supervisorMachine, type SupervisorOutput } from '../../machines/supervisor.ts';
import { deadLetterRetrySeconds } from '../../machines/backoff.ts';
import type { DeadLetter, Delivery, Lease, RejectedMessage, Report } from '../../machines/types.ts';
import { writerMachine } from '../../machines/writer.ts';
import { VISIT_TYPES, visitType, type VisitTypeName } from '../contract/visit-types.ts';
import { LOCAL_CREDENTIALS } from '../queues.ts';
import { LEASE_MARGIN_MS, type ProcessorConfig } from './config.ts';
import { createReporter, createStats, type ProcessorStats, type Reporter } from './report.ts';
import { SqsQueue } from './sqs-queue.ts';
import type { StoragePort } from './storage/port.ts';

export interface ProcessorOptions {
  readonly config: ProcessorConfig;
  /** SQS endpoint; undefined means the SDK's default (AWS). */
  readonly endpoint: string | undefined;
  readonly queueUrl: string;
  readonly dlqUrl?: string;
  readonly storage: StoragePort;
  readonly logger: Logger;
  /** Sees every report (metrics). */
  readonly onReport?: Reporter;
  /** XState inspection (the inspector or a trace file). */
  readonly inspect?: (event: InspectionEvent) => void;
  /** A client to use instead of one built from `endpoint` (benchmarks add middleware). */
  readonly client?: SQSClient;
}

export interface ProcessorHandle {
  readonly actor: Actor<typeof supervisorMachine>;
  readonly stats: ProcessorStats;
  readonly credits: CreditPool;
  /** Starts draining (idempotent). */
  stop(): void;
  /** Settles when the supervisor has stopped. */
  readonly done: Promise<SupervisorOutput>;
}

/** A write whose deadline ran out while it waited for a write slot: storage was never called. */
export class WriteNotStarted extends Error {
  override name = 'WriteNotStarted';
}

/** A rejected message as a DLQ letter: its body and lease, the contract's reason. */
function toDeadLetter({ message, rejection }: RejectedMessage): DeadLetter {
  return { messageId: message.messageId, receiptHandle: message.receiptHandle, receiveCount: message.receiveCount, body: message.body, reason: rejection };
}

/** Abort when either the actor stops or the write takes longer than the timeout. */
function withTimeout(signal: AbortSignal, ms: number): AbortSignal {
  return AbortSignal.any([signal, AbortSignal.timeout(ms)]);
}

export function startProcessor(options: ProcessorOptions): ProcessorHandle {
  const { config, logger, storage } = options;
  const client =
    options.client ??
    new SQSClient({
      region: config.region,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      // Local endpoints accept any credentials; AWS uses the default provider chain.
      ...(options.endpoint && !process.env.AWS_ACCESS_KEY_ID ? { credentials: LOCAL_CREDENTIALS } : {}),
    });
  const queue = new SqsQueue({
    client,
    queueUrl: options.queueUrl,
    dlqUrl: options.dlqUrl,
    limiter: new PQueue({ concurrency: config.sqsConcurrency }),
    visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
  });
  const credits = new CreditPool(config.maxInFlight);
  const writeLimiters = new Map(VISIT_TYPES.map((t) => [t.name, new PQueue({ concurrency: config.writeConcurrency })]));
  const stats = createStats();
  const report = createReporter(logger, stats, options.onReport);

  const supervisor = provideMachines({ queue, storage, credits, writeLimiters, config, report, logger });
  const actor = createActor(supervisor, {
    input: supervisorInput(config),
    ...(options.inspect ? { inspect: options.inspect } : {}),
  });
  const done = toPromise(actor).finally(() => {
    if (!options.client) client.destroy();
  });
  actor.start();
  return {
    actor,
    stats,
    credits,
    stop: () => actor.send({ type: 'SHUTDOWN' }),
    done,
  };
}

/** The minimal interface the machines' actors need from the queue (SqsQueue, or a fake in tests). */
export type QueuePort = Pick<SqsQueue, 'queueUrl' | 'prepare' | 'receive' | 'deleteMessages' | 'changeVisibility' | 'deadLetter'>;

export interface MachineDeps {
  readonly queue: QueuePort;
  readonly storage: StoragePort;
  readonly credits: CreditPool;
  readonly writeLimiters: ReadonlyMap<VisitTypeName, PQueue>;
  readonly config: ProcessorConfig;
  readonly report: Reporter;
  readonly logger: Logger;
}

/** The supervisor with every actor and action the machines name provided by `deps`. */
export function provideMachines(deps: MachineDeps) {
  const { queue, storage, credits, writeLimiters, config, report, logger } = deps;
  const reportAction = (_: unknown, r: Report) => report(r);
  const releaseCredits = (_: unknown, count: number) => credits.release(count);
  const deferSeconds = (receiveCount: number) => deadLetterRetrySeconds(receiveCount, config.deadLetterRetrySeconds);
  const batch = batchMachine.provide({
    actors: {
      writeBatch: fromPromise(async ({ input, signal }: { input: { type: VisitTypeName; deliveries: readonly Delivery[] }; signal: AbortSignal }) => {
        const limiter = writeLimiters.get(input.type)!;
        const visits = input.deliveries.map((d) => d.visit);
        // The deadline counts from now, waiting for a write slot included: the batch started this write on a lease that fits it.
        const deadline = withTimeout(signal, config.writeTimeoutMs);
        let started = false;
        try {
          await limiter.add(
            () => {
              started = true;
              return storage.writeBatch(visitType(input.type), visits, deadline);
            },
            { signal: deadline },
          );
        } catch (error) {
          if (!started && !signal.aborted) throw new WriteNotStarted(`no write slot for ${input.type} within ${config.writeTimeoutMs} ms`);
          throw error;
        }
      }),
      extendVisibility: fromPromise(({ input, signal }: { input: { leases: readonly Lease[]; seconds: number }; signal: AbortSignal }) =>
        queue.changeVisibility(input.leases, input.seconds, signal),
      ),
      acknowledge: fromPromise(({ input, signal }: { input: { leases: readonly Lease[] }; signal: AbortSignal }) => queue.deleteMessages(input.leases, signal)),
      release: fromPromise(({ input, signal }: { input: { leases: readonly Lease[] }; signal: AbortSignal }) => queue.changeVisibility(input.leases, 0, signal)),
      deadLetter: fromPromise(({ input, signal }: { input: { letters: readonly DeadLetter[] }; signal: AbortSignal }) =>
        queue.deadLetter(input.letters, deferSeconds, signal),
      ),
    },
    actions: { report: reportAction },
  });
  const writer = writerMachine.provide({
    actors: { batch },
    actions: { report: reportAction, releaseCredits },
  });
  const poller = pollerMachine.provide({
    actors: {
      acquireCredits: fromPromise(({ input, signal }: { input: { max: number }; signal: AbortSignal }) => credits.acquire(input.max, signal)),
      receiveMessages: fromPromise(({ input, signal }: { input: { maxMessages: number; waitSeconds: number }; signal: AbortSignal }) =>
        queue.receive(input.maxMessages, input.waitSeconds, signal),
      ),
      deadLetter: fromPromise(({ input, signal }: { input: { rejected: readonly RejectedMessage[] }; signal: AbortSignal }) =>
        queue.deadLetter(input.rejected.map(toDeadLetter), deferSeconds, signal),
      ),
      release: fromPromise(({ input, signal }: { input: { leases: readonly Lease[] }; signal: AbortSignal }) => queue.changeVisibility(input.leases, 0, signal)),
    },
    actions: { report: reportAction, releaseCredits },
  });
  return supervisorMachine.provide({
    actors: {
      writer,
      poller,
      prepare: fromPromise(async ({ signal }) => {
        const { dlqUrl, maxReceiveCount, queueVisibilityTimeoutSeconds } = await queue.prepare(signal);
        // A row must reach the DLQ through this processor (with its reason) before the redrive policy moves it.
        const deadLetterAfterReceives = Math.min(config.deadLetterAfterReceives, maxReceiveCount ?? Infinity);
        logger.info(
          {
            queueUrl: queue.queueUrl,
            dlqUrl,
            maxReceiveCount,
            deadLetterAfterReceives,
            visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
            queueVisibilityTimeoutSeconds,
            backend: storage.backend,
            pollers: config.pollers,
          },
          'processor starting',
        );
        if (queueVisibilityTimeoutSeconds !== config.visibilityTimeoutSeconds) {
          logger.warn(
            { queueVisibilityTimeoutSeconds, visibilityTimeoutSeconds: config.visibilityTimeoutSeconds },
            `queue VisibilityTimeout is ${queueVisibilityTimeoutSeconds} s; this processor sets ${config.visibilityTimeoutSeconds} s (VISIBILITY_TIMEOUT_SECONDS) on every receive and extension`,
          );
        }
        return { writerSettings: { deadLetterAfterReceives } };
      }),
    },
    actions: { report: reportAction, releaseCredits },
  });

}

/** The supervisor's input from configuration. */
export function supervisorInput(config: ProcessorConfig) {
  return {
    pollerCount: config.pollers,
    types: VISIT_TYPES.map((t) => t.name),
    pollerSettings: {
      maxMessages: 10,
      waitSeconds: config.receiveWaitSeconds,
      backoffBaseMs: 500,
      backoffMaxMs: 30_000,
    },
    writerSettings: {
      batchSize: config.batchSize,
      lingerMs: config.batchLingerMs,
      writeTimeoutMs: config.writeTimeoutMs,
      leaseMarginMs: LEASE_MARGIN_MS,
      deadLetterAfterReceives: config.deadLetterAfterReceives,
      heartbeatMs: config.heartbeatSeconds * 1000,
      visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
      writeMaxAttempts: config.writeMaxAttempts,
      retryBaseMs: config.retryBaseMs,
      retryMaxMs: config.retryMaxMs,
    },
    restartBackoff: { baseMs: 1_000, maxMs: 30_000 },
    shutdownGraceMs: config.shutdownGraceMs,
    releaseGraceMs: 5_000,
  };
}
