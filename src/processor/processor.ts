/**
 * Wires the pure machines to their I/O: the SQS adapter, the storage port, the credit pool
 * and the concurrency limits. The machines name their actors in setup(); here they are provided.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import PQueue from 'p-queue';
import type { Logger } from 'pino';
import { assign, createActor, fromPromise, toPromise, type Actor, type InspectionEvent } from 'xstate';
import { batchMachine } from '../../machines/batch.ts';
import { CircuitBreaker } from '../../machines/circuit-breaker.ts';
import { WriteNotStarted } from '../../machines/errors.ts';
import type { ShareSettings } from '../../machines/isolation.ts';
import { deadLettererMachine } from '../../machines/dead-letterer.ts';
import { CreditPool } from '../../machines/credit-pool.ts';
import { pollerMachine } from '../../machines/poller.ts';
import { receiverOf } from '../../machines/receiver.ts';
import { deadLetterRetrySeconds } from '../../machines/backoff.ts';
import { supervisorMachine, writerId, type SupervisorOutput } from '../../machines/supervisor.ts';
import type { QueuePort, StoragePort } from '../../machines/ports.ts';
import type { DeadLetter, Delivery, ExtendResult, Lease, RejectedMessage, Report } from '../../machines/types.ts';
import { writerMachine } from '../../machines/writer.ts';
import { VISIT_TYPES, visitType, type VisitTypeName } from '../contract/visit-types.ts';
import { LEASE_MARGIN_MS, type ProcessorConfig } from './config/config.ts';
import { createReporter, createStats, type ProcessorStats, type Reporter } from './runtime/report.ts';
import { withDeadline } from './deadline.ts';
import { assessHealth, type Health } from './runtime/health.ts';
import { startStallMonitor } from './runtime/stall-monitor.ts';
import { prepareWithRetries } from './sqs/prepare.ts';
import { createDlqSendClient, createProcessorSqsClient, sqsClientOptions, withDeadlines } from './sqs/client.ts';
import { SqsQueue, SqsQueueError } from './sqs/queue.ts';
import { StorageCalls } from './storage/calls.ts';
import { sameQueue } from '../platform/sqs-target.ts';

/** Another type that held credits this recently still counts as active (between its batches). */
const OTHERS_ACTIVE_MS = 10_000;
/** Longest a visit beyond its type's share is deferred (it doubles per receive up to this). */
const DEFER_MAX_SECONDS = 900;

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
  /** Whether the processor makes progress (what /healthz serves). */
  health(): Health;
  /** Settles when the supervisor has stopped. */
  readonly done: Promise<SupervisorOutput>;
}

/** A rejected message as a DLQ letter: its body and lease, the contract's reason. */
function toDeadLetter({ message, rejection }: RejectedMessage): DeadLetter {
  return { messageId: message.messageId, receiptHandle: message.receiptHandle, receiveCount: message.receiveCount, body: message.body, reason: rejection };
}

export function startProcessor(options: ProcessorOptions): ProcessorHandle {
  const { config, logger, storage } = options;
  const clientOptions = sqsClientOptions(config, options.endpoint);
  const client = options.client ? withDeadlines(options.client, clientOptions.deadlines, options.endpoint) : createProcessorSqsClient(clientOptions);
  // DLQ copies are sent with one attempt per call: a retry after a lost answer would store a second copy unseen.
  const dlqSendClient = options.client ? client : createDlqSendClient(clientOptions);
  const stats = createStats();
  const report = createReporter(logger, stats, options.onReport);
  const queue = new SqsQueue({
    client,
    queueUrl: options.queueUrl,
    dlqUrl: options.dlqUrl,
    limiter: new PQueue({ concurrency: config.sqsConcurrency }),
    visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
    report,
    dlqSendClient,
  });
  const credits = new CreditPool(config.maxInFlight, Date.now);
  const writeLimiters = new Map(VISIT_TYPES.map((t) => [t.name, new PQueue({ concurrency: config.writeConcurrency })]));

  const supervisor = provideMachines({
    queue,
    storage,
    credits,
    writeLimiters,
    config,
    report,
    logger,
    endpoint: options.endpoint ?? `SQS in ${config.region}`,
  });
  const actor = createActor(supervisor, {
    input: supervisorInput(config),
    ...(options.inspect ? { inspect: options.inspect } : {}),
  });
  let runningSince = Date.now();
  actor.subscribe((snapshot) => {
    if (snapshot.value !== 'running') runningSince = Date.now();
  });
  const health = () => {
    const snapshot = actor.getSnapshot();
    return assessHealth({
      supervisorState: typeof snapshot.value === 'string' ? snapshot.value : Object.keys(snapshot.value)[0],
      pollers: snapshot.context.pollers,
      lastReceiveAt: stats.lastReceiveAt,
      startedAt: runningSince,
      now: Date.now(),
      maxSilenceMs: config.healthMaxSilenceSeconds * 1000,
      writers: VISIT_TYPES.map(({ name }) => ({
        name: writerId(name),
        holding: credits.heldBy(writerId(name)),
        holdingSince: credits.heldSince(writerId(name)),
        lastWriteAt: stats.lastWriteAt[name],
      })),
    });
  };
  const stopStallMonitor = startStallMonitor({ health, logger, intervalMs: config.stallWarnIntervalSeconds * 1000 });
  const done = toPromise(actor).finally(() => {
    stopStallMonitor();
    if (!options.client) {
      client.destroy();
      dlqSendClient.destroy();
    }
  });
  actor.start();
  return {
    actor,
    stats,
    credits,
    stop: () => actor.send({ type: 'SHUTDOWN' }),
    health,
    done,
  };
}

export interface MachineDeps {
  readonly queue: QueuePort;
  readonly storage: StoragePort;
  readonly credits: CreditPool;
  readonly writeLimiters: ReadonlyMap<VisitTypeName, PQueue>;
  readonly config: ProcessorConfig;
  readonly report: Reporter;
  readonly logger: Logger;
  /** Named in start-up log lines. */
  readonly endpoint?: string;
  /** The clock of the circuit breakers (Date.now; a simulated clock's in tests on one). */
  readonly now?: () => number;
}

/** The supervisor with every actor and action the machines name provided by `deps`. */
export function provideMachines(deps: MachineDeps) {
  const { queue, storage, credits, writeLimiters, config, report, logger } = deps;
  const reportAction = (_: unknown, r: Report) => report(r);
  // Storage calls out per table, abandoned ones included: at the cap the table is paused.
  const calls = new Map(
    VISIT_TYPES.map((t) => [
      t.name,
      new StorageCalls(config.writeConcurrency, ({ paused, abandoned, cap }) =>
        report(paused ? { kind: 'storage-paused', type: t.name, abandoned, cap } : { kind: 'storage-resumed', type: t.name, abandoned, cap }),
      ),
    ]),
  );
  const breakers = new Map(
    VISIT_TYPES.map((t) => [t.name, new CircuitBreaker({ failureThreshold: config.breakerFailures, openMs: config.breakerOpenMs }, deps.now ?? Date.now)]),
  );
  // Credits are booked by actor id, so a crashed actor's balance can be returned by id.
  const returnCredits = ({ self }: { self: { id: string } }, count: number) => credits.giveBack(count, self.id);
  const transferCredits = ({ self }: { self: { id: string } }, { to, count }: { to: string; count: number }) => credits.transfer(self.id, to, count);
  const returnCreditsOf = (_: unknown, owner: string) => void credits.giveBackAll(owner);
  const deferSeconds = (receiveCount: number) => deadLetterRetrySeconds(receiveCount, config.deadLetterRetrySeconds);
  // Shared by the batches and the pollers, and by the pollers and the dead-letterer.
  const release = fromPromise(({ input, signal }: { input: { leases: readonly Lease[] }; signal: AbortSignal }) =>
    queue.changeVisibility(input.leases, 0, signal),
  );
  const deadLetterRejected = fromPromise(({ input, signal }: { input: { rejected: readonly RejectedMessage[] }; signal: AbortSignal }) =>
    queue.deadLetter(input.rejected.map(toDeadLetter), deferSeconds, signal),
  );
  const batch = batchMachine.provide({
    actors: {
      writeBatch: fromPromise(async ({ input, signal }: { input: { type: VisitTypeName; deliveries: readonly Delivery[] }; signal: AbortSignal }) => {
        const limiter = writeLimiters.get(input.type)!;
        const breaker = breakers.get(input.type)!;
        const visits = input.deliveries.map((d) => d.visit);
        // The deadline counts from now, waiting for a write slot included: the batch started this
        // write on a lease that has the whole deadline left. A race, not only a signal: a driver
        // that ignores the signal cannot hang the batch. The abandoned write frees its slot; the
        // batch takes the retry path. The abandoned call still counts against the table's cap of
        // calls out (storage/calls.ts) until it returns, so they cannot pile up.
        const invokedAt = Date.now();
        const remainingMs = () => config.writeTimeoutMs - (Date.now() - invokedAt);
        const notStarted = () => new WriteNotStarted(`no write slot for ${input.type} within ${config.writeTimeoutMs} ms`);
        try {
          await limiter.add(
            async () => {
              if (remainingMs() <= 0) throw notStarted();
              const tableCalls = calls.get(input.type)!;
              const ticket = await tableCalls.enter(
                remainingMs(),
                signal,
                () =>
                  new WriteNotStarted(
                    `no room for a ${input.type} write within ${config.writeTimeoutMs} ms: ${tableCalls.abandoned} abandoned writes have not returned`,
                  ),
              );
              const ms = remainingMs();
              if (ms <= 0) {
                ticket.returned();
                throw notStarted();
              }
              try {
                await withDeadline((writeSignal) => storage.writeBatch(visitType(input.type), visits, writeSignal), {
                  ms,
                  signal,
                  what: `write of ${visits.length} ${input.type} visit(s)`,
                  onAbandoned: () => {
                    ticket.abandoned();
                    report({ kind: 'write-abandoned', type: input.type, count: visits.length, timeoutMs: config.writeTimeoutMs });
                  },
                  onAbandonedSettled: () => {
                    ticket.settled();
                    report({ kind: 'abandoned-write-settled', type: input.type, count: visits.length });
                  },
                });
              } finally {
                ticket.returned();
              }
            },
            { signal },
          );
        } catch (error) {
          // The table's health, for its share: writes are not held back while its circuit is open.
          if (!signal.aborted && !(error instanceof WriteNotStarted) && breaker.failure()) {
            report({ kind: 'circuit', type: input.type, state: 'open', openMs: breaker.openMs });
          }
          throw error;
        }
        const wasOpen = breaker.state !== 'closed';
        breaker.success();
        if (wasOpen) report({ kind: 'circuit', type: input.type, state: 'closed' });
      }),
      extendVisibility: fromPromise(
        async ({ input, signal }: { input: { leases: readonly Lease[]; seconds: number }; signal: AbortSignal }): Promise<ExtendResult> => {
          const startedAt = Date.now();
          const result = await queue.changeVisibility(input.leases, input.seconds, signal);
          return { ...result, elapsedMs: Date.now() - startedAt };
        },
      ),
      acknowledge: fromPromise(({ input, signal }: { input: { leases: readonly Lease[] }; signal: AbortSignal }) => queue.deleteMessages(input.leases, signal)),
      release,
      deadLetter: fromPromise(({ input, signal }: { input: { letters: readonly DeadLetter[] }; signal: AbortSignal }) =>
        queue.deadLetter(input.letters, deferSeconds, signal),
      ),
    },
    actions: { report: reportAction },
  });
  const writer = writerMachine.provide({
    actors: {
      batch,
      // Never rejects: if the delay cannot be set, the message returns when its current lease ends.
      defer: fromPromise(
        async ({ input, signal }: { input: { leases: ReadonlyArray<{ messageId: string; receiptHandle: string }>; seconds: number }; signal: AbortSignal }) => {
          try {
            const { failed } = await queue.changeVisibility(input.leases, input.seconds, signal);
            if (failed.length > 0)
              logger.warn({ count: failed.length, seconds: input.seconds }, 'some visits could not be deferred; they return when their lease ends');
          } catch (error) {
            logger.warn(
              { count: input.leases.length, seconds: input.seconds, err: String(error) },
              'could not defer visits; they return when their lease ends',
            );
          }
        },
      ),
    },
    actions: { report: reportAction, returnCredits },
    guards: {
      degraded: ({ context }) => breakers.get(context.type)!.state !== 'closed' || calls.get(context.type)!.paused,
      paused: ({ context }) => calls.get(context.type)!.paused,
      othersActive: ({ context }) => VISIT_TYPES.some(({ name }) => name !== context.type && credits.activeWithin(writerId(name), OTHERS_ACTIVE_MS)),
    },
  });
  const poller = pollerMachine.provide({
    actors: {
      acquireCredits: fromPromise(({ input, signal }: { input: { max: number; owner: string }; signal: AbortSignal }) =>
        credits.acquire(input.max, signal, undefined, input.owner),
      ),
      receiveMessages: receiverOf((input, signal) => queue.receive(input.maxMessages, input.waitSeconds, signal)),
      deadLetter: deadLetterRejected,
      release,
    },
    actions: {
      report: reportAction,
      returnCredits,
      transferCredits,
      takeCredits: assign({
        holding: ({ context, self }) => context.holding + credits.tryAcquire(context.settings.maxMessages, context.settings.maxMessages, self.id),
      }),
    },
    guards: { creditsFree: ({ context }) => credits.canTake(context.settings.maxMessages) },
  });
  const deadLetterer = deadLettererMachine.provide({
    actors: {
      deadLetter: deadLetterRejected,
    },
    actions: { report: reportAction, returnCredits },
  });
  return supervisorMachine.provide({
    actors: {
      writer,
      poller,
      deadLetterer,
      prepare: fromPromise(async ({ signal }) => {
        const { dlqUrl, maxReceiveCount, queueVisibilityTimeoutSeconds } = await prepareWithRetries(queue, {
          signal,
          maxAttempts: config.startupMaxAttempts,
          backoff: { baseMs: config.startupBackoffBaseMs, maxMs: config.startupBackoffMaxMs },
          onRetry: (attempt, delayMs, error) =>
            logger.warn(
              { endpoint: deps.endpoint, queueUrl: queue.queueUrl, attempt, retryInMs: delayMs, err: error },
              `SQS endpoint ${deps.endpoint ?? ''} did not answer at start; retrying`,
            ),
        });
        // Found from the RedrivePolicy, the DLQ could still be the PIPELINE itself: invalid messages would loop.
        if (sameQueue(dlqUrl, queue.queueUrl, config.region)) {
          throw new SqsQueueError(
            `the DLQ of ${queue.queueUrl} is that queue itself (${dlqUrl}): give it a RedrivePolicy to another queue, or set TRAFFIC_DLQ_URL`,
          );
        }
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
        const share = shareSettings(config, maxReceiveCount);
        if (share && share.deferUpToReceive < config.deferUpToReceive) {
          logger.warn(
            { deferUpToReceive: share.deferUpToReceive, maxReceiveCount },
            `tuning.deferUpToReceive=${config.deferUpToReceive} is not below the queue's maxReceiveCount (${maxReceiveCount}): visits are deferred up to receive ${share.deferUpToReceive} only, so deferring never dead-letters one`,
          );
        }
        return { writerSettings: { deadLetterAfterReceives, ...(share ? { share } : {}) } };
      }),
    },
    actions: { report: reportAction, returnCreditsOf },
  });
}

/**
 * A type's share of the in-flight budget; undefined when there is no cap. With the queue's
 * maxReceiveCount known, a message is deferred only while another receive cannot dead-letter it.
 */
export function shareSettings(config: ProcessorConfig, maxReceiveCount?: number): ShareSettings | undefined {
  if (config.typeSharePercent >= 100) return undefined;
  return {
    maxHolding: Math.floor((config.maxInFlight * config.typeSharePercent) / 100),
    deferUpToReceive: Math.min(config.deferUpToReceive, maxReceiveCount === undefined ? Infinity : maxReceiveCount - 1),
    deferSeconds: config.deferSeconds,
    deferBusySeconds: config.deferBusySeconds,
    deferMaxSeconds: DEFER_MAX_SECONDS,
  };
}

/** The supervisor's input from configuration. */
export function supervisorInput(config: ProcessorConfig) {
  return {
    pollerCount: config.pollers,
    types: VISIT_TYPES.map((t) => t.name),
    pollerSettings: {
      maxMessages: 10,
      waitSeconds: config.receiveWaitSeconds,
      backoffBaseMs: config.pollBackoffBaseMs,
      backoffMaxMs: config.pollBackoffMaxMs,
      stopGraceMs: config.pollStopGraceMs,
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
      ackRetries: config.ackRetries,
      ackRetryBaseMs: config.ackRetryBaseMs,
      ...(config.typeSharePercent < 100 ? { share: shareSettings(config) } : {}),
    },
    restartBackoff: { baseMs: config.restartBackoffBaseMs, maxMs: config.restartBackoffMaxMs },
    shutdownGraceMs: config.shutdownGraceMs,
    releaseGraceMs: config.releaseGraceMs,
    deadLetterLingerMs: config.deadLetterLingerMs,
  };
}
