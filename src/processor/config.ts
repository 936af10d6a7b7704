/**
 * Processor configuration from environment variables, validated once at start with the
 * readers of src/platform/config.ts (the agent uses the same ones). A bad value stops the
 * process with one line naming the variable and what is allowed.
 */
import { VISIT_TYPES } from '../contract/visit-types.ts';
import { EMBEDDED_HOST, MAX_RECEIVE_COUNT } from '../queues.ts';
import { ConfigError, httpUrl, integer, localCredentialsFor, logLevel, oneOf, sqsConnection, type Env, type LogLevel } from '../platform/config.ts';
import { sameQueue } from '../platform/sqs-target.ts';

export { ConfigError };
export type StorageBackend = 'mysql' | 'cassandra';

export interface ProcessorConfig {
  /** SQS endpoint; undefined means the embedded fauxqs endpoint (or AWS when a queue URL is set). */
  readonly endpoint: string | undefined;
  readonly region: string;
  /** Sign SQS calls with fixed local credentials (an endpoint, or the embedded one, and no AWS_ACCESS_KEY_ID). */
  readonly localCredentials: boolean;
  /** PIPELINE queue URL; undefined means the embedded default creates it. */
  readonly queueUrl: string | undefined;
  /** DLQ URL; undefined means it is found from the queue's RedrivePolicy. */
  readonly dlqUrl: string | undefined;
  readonly embeddedPort: number;
  readonly storageBackend: StorageBackend;
  readonly pollers: number;
  readonly receiveWaitSeconds: number;
  readonly maxInFlight: number;
  readonly batchSize: number;
  readonly batchLingerMs: number;
  readonly writeConcurrency: number;
  readonly sqsConcurrency: number;
  readonly visibilityTimeoutSeconds: number;
  readonly heartbeatSeconds: number;
  readonly writeTimeoutMs: number;
  readonly writeMaxAttempts: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly shutdownGraceMs: number;
  readonly logLevel: LogLevel;
  readonly metricsPort: number;
  readonly statsIntervalMs: number;
  readonly healthMaxSilenceSeconds: number;
  /** A row storage keeps refusing alone goes to the DLQ (write_failed) from this receive on. */
  readonly deadLetterAfterReceives: number;
  /** First delay before a message the DLQ did not take is tried again (doubles per receive). */
  readonly deadLetterRetrySeconds: number;
  /** How long a rejected message waits for others to share its DLQ call. */
  readonly deadLetterLingerMs: number;
  // Liveness: deadlines, start-up retries, stall warnings.
  readonly sqsCallTimeoutMs: number;
  readonly sqsConnectTimeoutMs: number;
  readonly receiveDeadlineMarginMs: number;
  readonly startupMaxAttempts: number;
  readonly stallWarnIntervalSeconds: number;
  // Isolation between visit types.
  readonly typeSharePercent: number;
  readonly deferUpToReceive: number;
  readonly deferSeconds: number;
  readonly deferBusySeconds: number;
  readonly breakerFailures: number;
  readonly breakerOpenMs: number;
  // Retry and grace timings: backoffs, acknowledgement retries, shutdown steps.
  /** After a failed receive a poller waits this, doubling per failure up to the max (with jitter). */
  readonly pollBackoffBaseMs: number;
  readonly pollBackoffMaxMs: number;
  /** On STOP, how long a receive in flight may still answer before it is taken for an idle long poll and aborted. */
  readonly pollStopGraceMs: number;
  /** A crashed actor is restarted after this, doubling per crash up to the max (with jitter). */
  readonly restartBackoffBaseMs: number;
  readonly restartBackoffMaxMs: number;
  /** Start-up: a queue check that got no answer is tried again after this, doubling up to the max. */
  readonly startupBackoffBaseMs: number;
  readonly startupBackoffMaxMs: number;
  /** Deletes of written messages tried again after a failure, and the first retry's delay (doubling). */
  readonly ackRetries: number;
  readonly ackRetryBaseMs: number;
  /** After SHUTDOWN_GRACE_MS, how long releasing what is left (visibility 0) may take before the process stops anyway. */
  readonly releaseGraceMs: number;
}

/** Allowance for SQS round trips when the processor reckons how long a lease has left. */
export const LEASE_MARGIN_MS = 1_000;

/**
 * Leases: the visibility timeout is set on every receive and extension, so it bounds how long a
 * visit may wait in the buffer (linger) and how long one write may take: both must end with a
 * heartbeat and a margin to spare. An unset write deadline adapts to the lease; a set one that
 * does not fit stops the process.
 */
function leaseRoom(visibilityTimeoutSeconds: number, heartbeatSeconds: number): { roomMs: number; why: string } {
  const roomMs = (visibilityTimeoutSeconds - heartbeatSeconds) * 1000 - LEASE_MARGIN_MS;
  return {
    roomMs,
    why: `(VISIBILITY_TIMEOUT_SECONDS ${visibilityTimeoutSeconds} - HEARTBEAT_SECONDS ${heartbeatSeconds}) x 1000 - ${LEASE_MARGIN_MS} = ${roomMs}`,
  };
}

function leaseFit(env: Env, visibilityTimeoutSeconds: number, heartbeatSeconds: number) {
  const { roomMs, why } = leaseRoom(visibilityTimeoutSeconds, heartbeatSeconds);
  if (roomMs < 100) {
    throw new ConfigError(
      `HEARTBEAT_SECONDS=${heartbeatSeconds} is invalid: with VISIBILITY_TIMEOUT_SECONDS=${visibilityTimeoutSeconds} it leaves ${roomMs} ms of lease for a write; it must leave at least 100 ms`,
    );
  }
  const writeTimeoutMs = integer(env, 'WRITE_TIMEOUT_MS', Math.min(10_000, roomMs), 100, 600_000);
  if (writeTimeoutMs > roomMs) {
    throw new ConfigError(`WRITE_TIMEOUT_MS=${writeTimeoutMs} is invalid: it must be at most ${why} so a write never outlives its lease`);
  }
  const batchLingerMs = integer(env, 'BATCH_LINGER_MS', Math.min(50, roomMs), 0, 60_000);
  if (batchLingerMs > roomMs) {
    throw new ConfigError(`BATCH_LINGER_MS=${batchLingerMs} is invalid: it must be at most ${why} so buffered visits have their lease extended before it ends`);
  }
  return { writeTimeoutMs, batchLingerMs };
}

/**
 * Defaults are sized for peak bursts on one worker: 8 long-polling receivers keep up to
 * 80 messages arriving per round trip, 2,000 in flight keeps memory bounded (a visit is
 * under 1 KB), batches of 100 amortise storage calls, 4 concurrent writes per type hide
 * storage latency. See SUMMARY.md for the reasoning.
 */
export function loadConfig(env: Env = process.env): ProcessorConfig {
  const visibilityTimeoutSeconds = integer(env, 'VISIBILITY_TIMEOUT_SECONDS', 30, 5, 43_200);
  const heartbeatSeconds = integer(env, 'HEARTBEAT_SECONDS', Math.max(1, Math.floor(visibilityTimeoutSeconds / 3)), 1, 43_199);
  if (heartbeatSeconds >= visibilityTimeoutSeconds) {
    throw new ConfigError(
      `HEARTBEAT_SECONDS=${heartbeatSeconds} is invalid: it must be below VISIBILITY_TIMEOUT_SECONDS (${visibilityTimeoutSeconds}) so leases are extended before they expire`,
    );
  }
  const { writeTimeoutMs, batchLingerMs } = leaseFit(env, visibilityTimeoutSeconds, heartbeatSeconds);
  const batchSize = integer(env, 'BATCH_SIZE', 100, 1, 1_000);
  const maxInFlight = integer(env, 'MAX_IN_FLIGHT', 2_000, 10, 100_000);
  if (maxInFlight < batchSize) {
    throw new ConfigError(`MAX_IN_FLIGHT=${maxInFlight} is invalid: it must be at least BATCH_SIZE (${batchSize})`);
  }
  const sqsConcurrency = integer(env, 'SQS_CONCURRENCY', 32, 1, 1_024);
  const liveness = livenessConfig(env, { maxInFlight, batchSize, heartbeatSeconds, sqsConcurrency });
  // At least 1: with 0 an idle processor polls in a busy loop.
  const receiveWaitSeconds = integer(env, 'RECEIVE_WAIT_SECONDS', 20, 1, 20);
  const healthMaxSilenceSeconds = integer(env, 'HEALTH_MAX_SILENCE_SECONDS', 120, 2, 86_400);
  if (healthMaxSilenceSeconds * 1000 <= receiveWaitSeconds * 1000 + liveness.receiveDeadlineMarginMs) {
    throw new ConfigError(
      `HEALTH_MAX_SILENCE_SECONDS=${healthMaxSilenceSeconds} is invalid: it must exceed RECEIVE_WAIT_SECONDS (${receiveWaitSeconds}) plus RECEIVE_DEADLINE_MARGIN_MS (${liveness.receiveDeadlineMarginMs}), the longest a healthy receive takes`,
    );
  }
  const { retryBaseMs, retryMaxMs, metricsPort, embeddedPort, statsIntervalMs } = checkStartupKnobs(env);
  const { endpoint, region } = sqsConnection(env);
  const queueUrl = httpUrl(env, 'TRAFFIC_QUEUE_URL');
  const dlqUrl = distinctDlq(env, queueUrl, region);
  return {
    ...liveness,
    ...timingConfig(env),
    endpoint,
    region,
    // Without a queue URL the embedded endpoint is used: a local one too.
    localCredentials: localCredentialsFor(endpoint ?? (queueUrl ? undefined : `http://${EMBEDDED_HOST}`), env),
    queueUrl,
    dlqUrl,
    embeddedPort,
    storageBackend: oneOf(env, 'STORAGE_BACKEND', 'mysql', ['mysql', 'cassandra'] as const),
    pollers: integer(env, 'POLLERS', 8, 1, 256),
    receiveWaitSeconds,
    maxInFlight,
    batchSize,
    batchLingerMs,
    writeConcurrency: integer(env, 'WRITE_CONCURRENCY', 4, 1, 256),
    sqsConcurrency,
    visibilityTimeoutSeconds,
    heartbeatSeconds,
    writeTimeoutMs,
    writeMaxAttempts: integer(env, 'WRITE_MAX_ATTEMPTS', 6, 1, 100),
    retryBaseMs,
    retryMaxMs,
    shutdownGraceMs: integer(env, 'SHUTDOWN_GRACE_MS', 25_000, 0, 600_000),
    logLevel: logLevel(env),
    metricsPort,
    statsIntervalMs,
    healthMaxSilenceSeconds,
    deadLetterAfterReceives: integer(env, 'DEAD_LETTER_AFTER_RECEIVES', 5, 1, 1_000),
    deadLetterRetrySeconds: integer(env, 'DEAD_LETTER_RETRY_SECONDS', 30, 1, 900),
    deadLetterLingerMs: deadLetterLinger(env, visibilityTimeoutSeconds, heartbeatSeconds),
  };
}

/**
 * TRAFFIC_DLQ_URL, refused when it names the PIPELINE itself: every invalid message would be
 * "dead-lettered" back onto the queue it came from, received again and sent again, for ever.
 * Queues are compared by identity (region, account, name), not as URL strings.
 */
function distinctDlq(env: Env, queueUrl: string | undefined, region: string): string | undefined {
  const dlqUrl = httpUrl(env, 'TRAFFIC_DLQ_URL');
  if (dlqUrl !== undefined && queueUrl !== undefined && sameQueue(dlqUrl, queueUrl, region)) {
    throw new ConfigError(
      `TRAFFIC_DLQ_URL=${dlqUrl} is invalid: it names the same queue as TRAFFIC_QUEUE_URL (${queueUrl}); invalid messages would loop on the PIPELINE: set the DLQ's URL, or unset TRAFFIC_DLQ_URL to use the queue's RedrivePolicy`,
    );
  }
  return dlqUrl;
}

/**
 * Rejected messages of all pollers wait together up to DEAD_LETTER_LINGER_MS so one DLQ call
 * carries up to 10 of them. They are not lease-extended while they wait, so, like buffered
 * visits, the wait must leave the lease a heartbeat and a margin for the DLQ calls.
 */
function deadLetterLinger(env: Env, visibilityTimeoutSeconds: number, heartbeatSeconds: number): number {
  const { roomMs, why } = leaseRoom(visibilityTimeoutSeconds, heartbeatSeconds);
  const lingerMs = integer(env, 'DEAD_LETTER_LINGER_MS', Math.max(0, Math.min(200, roomMs)), 0, 60_000);
  if (lingerMs > roomMs) {
    throw new ConfigError(`DEAD_LETTER_LINGER_MS=${lingerMs} is invalid: it must be at most ${why} so rejected messages reach the DLQ before their lease ends`);
  }
  return lingerMs;
}

/** Batch actors alive at once (MAX_IN_FLIGHT / BATCH_SIZE): each has timers and a lease to keep; beyond this, memory grows past what a worker should hold. */
export const MAX_BATCHES_IN_FLIGHT = 2_000;
/** Lease extensions per second each SQS_CONCURRENCY slot can carry (50 ms per call). */
export const EXTENSIONS_PER_SLOT_PER_SECOND = 20;

/**
 * Deadlines of outside calls, start-up retries, stall warnings, and the relations that keep
 * memory and lease upkeep bounded: every batch in flight extends its lease once per
 * heartbeat with ceil(size / 10) calls, and all of them share SQS_CONCURRENCY.
 */
function livenessConfig(env: Env, limits: { maxInFlight: number; batchSize: number; heartbeatSeconds: number; sqsConcurrency: number }) {
  const sqsCallTimeoutMs = integer(env, 'SQS_CALL_TIMEOUT_MS', 10_000, 100, 300_000);
  const sqsConnectTimeoutMs = integer(env, 'SQS_CONNECT_TIMEOUT_MS', Math.min(3_000, sqsCallTimeoutMs), 100, 60_000);
  if (sqsConnectTimeoutMs > sqsCallTimeoutMs) {
    throw new ConfigError(`SQS_CONNECT_TIMEOUT_MS=${sqsConnectTimeoutMs} is invalid: it must not exceed SQS_CALL_TIMEOUT_MS (${sqsCallTimeoutMs})`);
  }
  const { maxInFlight, batchSize, heartbeatSeconds, sqsConcurrency } = limits;
  const batches = Math.ceil(maxInFlight / batchSize);
  if (batches > MAX_BATCHES_IN_FLIGHT) {
    throw new ConfigError(
      `MAX_IN_FLIGHT=${maxInFlight} is invalid with BATCH_SIZE=${batchSize}: up to ${batches} batches would be in flight at once, at most ${MAX_BATCHES_IN_FLIGHT} are allowed (raise BATCH_SIZE or lower MAX_IN_FLIGHT)`,
    );
  }
  const extensionsPerSecond = Math.ceil(maxInFlight / Math.min(batchSize, 10)) / heartbeatSeconds;
  const capacity = sqsConcurrency * EXTENSIONS_PER_SLOT_PER_SECOND;
  if (extensionsPerSecond > capacity) {
    throw new ConfigError(
      `MAX_IN_FLIGHT=${maxInFlight} is invalid with BATCH_SIZE=${batchSize}, HEARTBEAT_SECONDS=${heartbeatSeconds} and SQS_CONCURRENCY=${sqsConcurrency}: keeping every lease would take ${Math.round(extensionsPerSecond)} visibility calls per second, more than the ${capacity} SQS_CONCURRENCY can carry (about ${EXTENSIONS_PER_SLOT_PER_SECOND} per slot per second); leases would lapse`,
    );
  }
  return {
    sqsCallTimeoutMs,
    sqsConnectTimeoutMs,
    receiveDeadlineMarginMs: integer(env, 'RECEIVE_DEADLINE_MARGIN_MS', 5_000, 500, 60_000),
    startupMaxAttempts: integer(env, 'STARTUP_MAX_ATTEMPTS', 0, 0, 1_000_000),
    stallWarnIntervalSeconds: integer(env, 'STALL_WARN_INTERVAL_SECONDS', 30, 1, 86_400),
    ...isolationConfig(env, limits),
  };
}

/**
 * Each visit type may hold at most TYPE_SHARE_PERCENT of MAX_IN_FLIGHT (100: no cap), so a type
 * whose storage fails or hangs leaves the rest to the others; visits beyond it are deferred.
 */
function isolationConfig(env: Env, limits: { maxInFlight: number; batchSize: number }) {
  const types = VISIT_TYPES.length;
  const typeSharePercent = integer(env, 'TYPE_SHARE_PERCENT', types > 1 ? 70 : 100, Math.ceil(100 / types), 100);
  const share = Math.floor((limits.maxInFlight * typeSharePercent) / 100);
  if (typeSharePercent < 100 && share < limits.batchSize) {
    throw new ConfigError(
      `TYPE_SHARE_PERCENT=${typeSharePercent} is invalid with MAX_IN_FLIGHT=${limits.maxInFlight}: a type's share (${share}) must hold at least one batch (BATCH_SIZE=${limits.batchSize})`,
    );
  }
  const breakerOpenMs = integer(env, 'BREAKER_OPEN_MS', 1_000, 10, 60_000);
  return {
    typeSharePercent,
    deferUpToReceive: integer(env, 'DEFER_UP_TO_RECEIVE', MAX_RECEIVE_COUNT - 1, 0, 100),
    deferSeconds: integer(env, 'DEFER_SECONDS', 30, 1, 900),
    deferBusySeconds: integer(env, 'DEFER_BUSY_SECONDS', 2, 1, 900),
    breakerFailures: integer(env, 'BREAKER_FAILURES', 3, 1, 1_000),
    breakerOpenMs,
  };
}

/**
 * Knobs whose range is not one interval, and relations between knobs that would otherwise be
 * accepted silently and misbehave later (a retry cap below its base, a stats line every
 * millisecond, a DLQ that the embedded endpoint would ignore, two servers on one port).
 */
function checkStartupKnobs(env: Env): { retryBaseMs: number; retryMaxMs: number; metricsPort: number; embeddedPort: number; statsIntervalMs: number } {
  const [retryBaseMs, retryMaxMs] = backoffPair(env, 'RETRY', 200, 10_000);
  const statsIntervalMs = integer(env, 'STATS_INTERVAL_MS', 60_000, 0, 86_400_000);
  if (statsIntervalMs > 0 && statsIntervalMs < 1_000) {
    throw new ConfigError(`STATS_INTERVAL_MS=${statsIntervalMs} is invalid: expected 0 (off) or an integer from 1000 to 86400000`);
  }
  const queueSet = Boolean(env.TRAFFIC_QUEUE_URL);
  if (!queueSet && env.TRAFFIC_DLQ_URL) {
    throw new ConfigError(
      'TRAFFIC_DLQ_URL is set but TRAFFIC_QUEUE_URL is not: the embedded endpoint creates its own DLQ; set TRAFFIC_QUEUE_URL too, or unset TRAFFIC_DLQ_URL',
    );
  }
  if (!queueSet && (env.AWS_ENDPOINT_URL_SQS || env.AWS_ENDPOINT_URL)) {
    const name = env.AWS_ENDPOINT_URL_SQS ? 'AWS_ENDPOINT_URL_SQS' : 'AWS_ENDPOINT_URL';
    throw new ConfigError(`${name} is set but TRAFFIC_QUEUE_URL is not: set both to use that endpoint, or neither for the embedded one`);
  }
  if (queueSet && env.EMBEDDED_SQS_PORT) {
    throw new ConfigError('EMBEDDED_SQS_PORT is set but so is TRAFFIC_QUEUE_URL, and then no embedded endpoint is started: unset one of them');
  }
  const metricsPort = integer(env, 'METRICS_PORT', 0, 0, 65_535);
  const embeddedPort = integer(env, 'EMBEDDED_SQS_PORT', 4566, 0, 65_535);
  if (!queueSet && metricsPort !== 0 && metricsPort === embeddedPort) {
    throw new ConfigError(`METRICS_PORT=${metricsPort} is invalid: the embedded SQS endpoint listens on that port (EMBEDDED_SQS_PORT); choose another`);
  }
  return { retryBaseMs, retryMaxMs, metricsPort, embeddedPort, statsIntervalMs };
}

/** A base delay and its cap, both in milliseconds, the cap at least the base. */
function backoffPair(env: Env, prefix: string, base: number, max: number): [number, number] {
  const baseMs = integer(env, `${prefix}_BASE_MS`, base, 1, 600_000);
  const maxMs = integer(env, `${prefix}_MAX_MS`, max, 1, 3_600_000);
  if (maxMs < baseMs) throw new ConfigError(`${prefix}_MAX_MS=${maxMs} is invalid: it must be at least ${prefix}_BASE_MS (${baseMs}), the first delay it caps`);
  return [baseMs, maxMs];
}

/** Retry and grace timings of the pollers, the supervisor, start-up and acknowledgements. */
function timingConfig(env: Env) {
  const [pollBackoffBaseMs, pollBackoffMaxMs] = backoffPair(env, 'POLL_BACKOFF', 500, 30_000);
  const [restartBackoffBaseMs, restartBackoffMaxMs] = backoffPair(env, 'RESTART_BACKOFF', 1_000, 30_000);
  const [startupBackoffBaseMs, startupBackoffMaxMs] = backoffPair(env, 'STARTUP_BACKOFF', 1_000, 30_000);
  return {
    pollBackoffBaseMs,
    pollBackoffMaxMs,
    pollStopGraceMs: integer(env, 'POLL_STOP_GRACE_MS', 500, 0, 60_000),
    restartBackoffBaseMs,
    restartBackoffMaxMs,
    startupBackoffBaseMs,
    startupBackoffMaxMs,
    ackRetries: integer(env, 'ACK_RETRIES', 3, 0, 20),
    ackRetryBaseMs: integer(env, 'ACK_RETRY_BASE_MS', 200, 1, 60_000),
    releaseGraceMs: integer(env, 'RELEASE_GRACE_MS', 5_000, 0, 600_000),
  };
}
