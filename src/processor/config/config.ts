/**
 * Processor configuration: the few knobs an operator sets (KNOBS), read from the environment
 * once at start with the readers of src/platform/config.ts (the agent uses the same ones), and
 * the tuning constants of ./tuning.ts. A bad knob, or a knob that does not fit a constant, stops
 * the process with one line naming the variable and what is allowed.
 */
import { heartbeatSecondsFor, LEASE_MARGIN_MS, leaseRoomMs } from '../../../machines/batch-lease.ts';
import { VISIT_TYPES } from '../../contract/visit-types.ts';
import { ConfigError, httpUrl, integer, localCredentialsFor, logLevel, oneOf, sqsConnection, type Env, type LogLevel } from '../../platform/config.ts';
import { sameQueue } from '../../platform/sqs-target.ts';
import { EMBEDDED_HOST } from '../../queues.ts';
import { TUNING, TUNING_RANGES, type Tuning } from './tuning.ts';

export { ConfigError, LEASE_MARGIN_MS };
export type StorageBackend = 'mysql' | 'cassandra';

/** The knobs read from the environment, and the tuning constants (./tuning.ts) with the heartbeat resolved. */
export interface ProcessorConfig extends Omit<Tuning, 'heartbeatSeconds'> {
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
  readonly shutdownGraceMs: number;
  readonly logLevel: LogLevel;
  readonly metricsPort: number;
  /** The per-message SQS calls without the SDK's middleware (SQS_LEAN_CALLS, on by default). */
  readonly leanCalls: boolean;
}

/**
 * Every variable the processor reads of its own, and nothing else: docs/operations.md lists
 * them in one table, and a variable that looks like a misspelling of one is named at start.
 * LOG_JSON is read by the logger (src/platform/logger.ts); the AWS_* variables are the SDK's own.
 */
export const KNOBS = [
  'TRAFFIC_QUEUE_URL',
  'TRAFFIC_DLQ_URL',
  'STORAGE_BACKEND',
  'POLLERS',
  'RECEIVE_WAIT_SECONDS',
  'MAX_IN_FLIGHT',
  'BATCH_SIZE',
  'BATCH_LINGER_MS',
  'WRITE_CONCURRENCY',
  'SQS_CONCURRENCY',
  'VISIBILITY_TIMEOUT_SECONDS',
  'WRITE_TIMEOUT_MS',
  'WRITE_MAX_ATTEMPTS',
  'SHUTDOWN_GRACE_MS',
  'METRICS_PORT',
  'EMBEDDED_SQS_PORT',
  'LOG_LEVEL',
  'LOG_JSON',
  'TRAFFIC_LOCAL_CREDENTIALS',
  'SQS_LEAN_CALLS',
] as const;

/** Standard AWS variables the processor reads through src/platform/config.ts (endpoint, region, credential policy). */
export const AWS_VARIABLES = ['AWS_ENDPOINT_URL_SQS', 'AWS_ENDPOINT_URL', 'AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_ACCESS_KEY_ID'] as const;

/** A tuning value by its name in ./tuning.ts, as error lines name it. */
const tuned = (name: keyof Tuning) => `tuning.${name}`;

/**
 * Leases: the visibility timeout is set on every receive and extension, so it bounds how long a
 * visit may wait in the buffer (linger) and how long one write may take: both must end with a
 * heartbeat and a margin to spare. An unset write deadline adapts to the lease; a set one that
 * does not fit stops the process.
 */
function leaseFit(env: Env, visibilityTimeoutSeconds: number, heartbeatSeconds: number, deadLetterLingerMs: number) {
  const roomMs = leaseRoomMs(visibilityTimeoutSeconds, heartbeatSeconds);
  const why = `(VISIBILITY_TIMEOUT_SECONDS ${visibilityTimeoutSeconds} - heartbeat ${heartbeatSeconds}) x 1000 - lease margin ${LEASE_MARGIN_MS} = ${roomMs}`;
  if (roomMs < 100) {
    throw new ConfigError(
      `VISIBILITY_TIMEOUT_SECONDS=${visibilityTimeoutSeconds} is invalid: with a heartbeat of ${heartbeatSeconds} s it leaves ${roomMs} ms of lease for a write; it must leave at least 100 ms`,
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
  // Rejected messages wait together for one DLQ call without lease extension: the same room bounds the wait.
  if (deadLetterLingerMs > roomMs) {
    throw new ConfigError(
      `VISIBILITY_TIMEOUT_SECONDS=${visibilityTimeoutSeconds} is invalid: ${tuned('deadLetterLingerMs')} (${deadLetterLingerMs}) must be at most ${why} so rejected messages reach the DLQ before their lease ends`,
    );
  }
  return { writeTimeoutMs, batchLingerMs };
}

/** Each tuning value within its range, and the pairs whose cap must be at least their base. */
function checkTuning(tuning: Tuning): void {
  for (const [name, [min, max]] of Object.entries(TUNING_RANGES) as Array<[keyof typeof TUNING_RANGES, readonly [number, number]]>) {
    const value = tuning[name];
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new ConfigError(`${tuned(name)}=${value} is invalid: expected an integer from ${min} to ${max}`);
    }
  }
  const pairs: Array<[keyof Tuning, keyof Tuning]> = [
    ['retryBaseMs', 'retryMaxMs'],
    ['pollBackoffBaseMs', 'pollBackoffMaxMs'],
    ['restartBackoffBaseMs', 'restartBackoffMaxMs'],
    ['startupBackoffBaseMs', 'startupBackoffMaxMs'],
  ];
  for (const [base, max] of pairs) {
    if ((tuning[max] as number) < (tuning[base] as number)) {
      throw new ConfigError(`${tuned(max)}=${tuning[max]} is invalid: it must be at least ${tuned(base)} (${tuning[base]}), the first delay it caps`);
    }
  }
}

/**
 * Defaults are sized for peak bursts on one worker: 8 long-polling receivers keep up to
 * 80 messages arriving per round trip, 2,000 in flight keeps memory bounded (a visit is
 * under 1 KB), batches of 100 amortise storage calls, 4 concurrent writes per type hide
 * storage latency. See SUMMARY.md for the reasoning.
 * `overrides` replace tuning constants (tests); their relations with the knobs are checked the same way.
 */
export function loadConfig(env: Env = process.env, overrides: Partial<Tuning> = {}): ProcessorConfig {
  const tuning: Tuning = { ...TUNING, ...overrides };
  checkTuning(tuning);
  const visibilityTimeoutSeconds = integer(env, 'VISIBILITY_TIMEOUT_SECONDS', 30, 5, 43_200);
  const heartbeatSeconds = tuning.heartbeatSeconds ?? heartbeatSecondsFor(visibilityTimeoutSeconds);
  if (heartbeatSeconds < 1 || heartbeatSeconds >= visibilityTimeoutSeconds) {
    throw new ConfigError(
      `VISIBILITY_TIMEOUT_SECONDS=${visibilityTimeoutSeconds} is invalid: it must exceed the heartbeat (${heartbeatSeconds} s) so leases are extended before they expire`,
    );
  }
  const { writeTimeoutMs, batchLingerMs } = leaseFit(env, visibilityTimeoutSeconds, heartbeatSeconds, tuning.deadLetterLingerMs);
  const batchSize = integer(env, 'BATCH_SIZE', 100, 1, 1_000);
  const maxInFlight = integer(env, 'MAX_IN_FLIGHT', 2_000, 10, 100_000);
  if (maxInFlight < batchSize) {
    throw new ConfigError(`MAX_IN_FLIGHT=${maxInFlight} is invalid: it must be at least BATCH_SIZE (${batchSize})`);
  }
  const sqsConcurrency = integer(env, 'SQS_CONCURRENCY', 32, 1, 1_024);
  checkLeaseUpkeep({ maxInFlight, batchSize, heartbeatSeconds, sqsConcurrency });
  checkTypeShare(tuning, { maxInFlight, batchSize });
  // At least 1: with 0 an idle processor polls in a busy loop.
  const receiveWaitSeconds = integer(env, 'RECEIVE_WAIT_SECONDS', 20, 1, 20);
  if (tuning.healthMaxSilenceSeconds * 1000 <= receiveWaitSeconds * 1000 + tuning.receiveDeadlineMarginMs) {
    throw new ConfigError(
      `RECEIVE_WAIT_SECONDS=${receiveWaitSeconds} is invalid: with ${tuned('receiveDeadlineMarginMs')} (${tuning.receiveDeadlineMarginMs}) the longest healthy receive must stay below ${tuned('healthMaxSilenceSeconds')} (${tuning.healthMaxSilenceSeconds})`,
    );
  }
  // The constant connect deadline is lowered to a shorter call deadline; one given explicitly must fit it.
  const sqsConnectTimeoutMs = overrides.sqsConnectTimeoutMs ?? Math.min(tuning.sqsConnectTimeoutMs, tuning.sqsCallTimeoutMs);
  if (sqsConnectTimeoutMs > tuning.sqsCallTimeoutMs) {
    throw new ConfigError(
      `${tuned('sqsConnectTimeoutMs')}=${sqsConnectTimeoutMs} is invalid: it must not exceed ${tuned('sqsCallTimeoutMs')} (${tuning.sqsCallTimeoutMs})`,
    );
  }
  const { metricsPort, embeddedPort } = checkStartupKnobs(env);
  const { endpoint, region } = sqsConnection(env);
  const queueUrl = httpUrl(env, 'TRAFFIC_QUEUE_URL');
  const { heartbeatSeconds: _derived, ...constants } = tuning;
  const dlqUrl = distinctDlq(env, queueUrl, region);
  return {
    ...constants,
    sqsConnectTimeoutMs,
    typeSharePercent: VISIT_TYPES.length > 1 ? tuning.typeSharePercent : 100,
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
    shutdownGraceMs: integer(env, 'SHUTDOWN_GRACE_MS', 25_000, 0, 600_000),
    logLevel: logLevel(env),
    metricsPort,
    leanCalls: leanCallsFrom(env),
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

/** Batch actors alive at once (MAX_IN_FLIGHT / BATCH_SIZE): each has timers and a lease to keep; beyond this, memory grows past what a worker should hold. */
export const MAX_BATCHES_IN_FLIGHT = 2_000;
/** Lease extensions per second each SQS_CONCURRENCY slot can carry (50 ms per call). */
export const EXTENSIONS_PER_SLOT_PER_SECOND = 20;

/**
 * Memory and lease upkeep stay bounded: every batch in flight extends its lease once per
 * heartbeat with ceil(size / 10) calls, and all of them share SQS_CONCURRENCY.
 */
function checkLeaseUpkeep(limits: { maxInFlight: number; batchSize: number; heartbeatSeconds: number; sqsConcurrency: number }): void {
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
      `MAX_IN_FLIGHT=${maxInFlight} is invalid with BATCH_SIZE=${batchSize}, a heartbeat of ${heartbeatSeconds} s and SQS_CONCURRENCY=${sqsConcurrency}: keeping every lease would take ${Math.round(extensionsPerSecond)} visibility calls per second, more than the ${capacity} SQS_CONCURRENCY can carry (about ${EXTENSIONS_PER_SLOT_PER_SECOND} per slot per second); leases would lapse`,
    );
  }
}

/**
 * Each visit type may hold at most tuning.typeSharePercent of MAX_IN_FLIGHT (100: no cap), so a
 * type whose storage fails or hangs leaves the rest to the others; visits beyond it are deferred.
 * The shares of all types must cover the budget, and one share must hold a batch.
 */
function checkTypeShare(tuning: Tuning, limits: { maxInFlight: number; batchSize: number }): void {
  const types = VISIT_TYPES.length;
  const percent = tuning.typeSharePercent;
  if (types > 1 && percent < Math.ceil(100 / types)) {
    throw new ConfigError(`${tuned('typeSharePercent')}=${percent} is invalid: expected an integer from ${Math.ceil(100 / types)} to 100`);
  }
  const share = Math.floor((limits.maxInFlight * percent) / 100);
  if (types > 1 && percent < 100 && share < limits.batchSize) {
    throw new ConfigError(
      `MAX_IN_FLIGHT=${limits.maxInFlight} is invalid with BATCH_SIZE=${limits.batchSize}: a type's share (${tuned('typeSharePercent')} ${percent} %: ${share}) must hold at least one batch`,
    );
  }
}

/**
 * Knobs whose range is not one interval, and relations between knobs that would otherwise be
 * accepted silently and misbehave later (a stats line every millisecond, a DLQ that the
 * embedded endpoint would ignore, two servers on one port).
 */
function checkStartupKnobs(env: Env): { metricsPort: number; embeddedPort: number } {
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
  return { metricsPort, embeddedPort };
}

/** The switch that sends the per-message calls through the SDK's middleware instead (for a first deploy, or to compare). */
export const LEAN_CALLS_VARIABLE = 'SQS_LEAN_CALLS';

/** Whether the per-message calls skip the SDK's middleware: `SQS_LEAN_CALLS` on (default) or off; anything else is refused. */
export function leanCallsFrom(env: Env): boolean {
  const value = env[LEAN_CALLS_VARIABLE];
  if (value === undefined || value === '' || value === 'on') return true;
  if (value === 'off') return false;
  throw new ConfigError(`${LEAN_CALLS_VARIABLE}=${JSON.stringify(value).slice(0, 40)} is not allowed: use on (default) or off`);
}
