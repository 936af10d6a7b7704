/**
 * Tuning: the values an operator does not set. They are constants, grouped by the part of the
 * processor they govern; loadConfig (./config.ts) checks their ranges and their relations with
 * the knobs at start, so a change here that breaks a relation stops the process with one line.
 * Tests give other values through loadConfig's second argument, never through the environment.
 */
import { MAX_RECEIVE_COUNT } from '../../queues.ts';

export interface Tuning {
  // Batches (machines/batch.ts): write retries, acknowledgement retries, rows storage keeps refusing.
  /** A failed write is retried after this, doubling per attempt up to the max (with jitter). */
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /** Deletes of written messages tried again after a failure, and the first retry's delay (doubling). */
  readonly ackRetries: number;
  readonly ackRetryBaseMs: number;
  /** A row storage keeps refusing alone goes to the DLQ (write_failed) from this receive on. */
  readonly deadLetterAfterReceives: number;
  /** Lease extension period; undefined: a third of VISIBILITY_TIMEOUT_SECONDS. */
  readonly heartbeatSeconds: number | undefined;

  // Dead-lettering of invalid messages (machines/dead-letterer.ts, the SQS adapter).
  /** First delay before a message the DLQ did not take is tried again (doubles per receive). */
  readonly deadLetterRetrySeconds: number;
  /** How long a rejected message waits for others to share its DLQ call; lowered to fit the lease. */
  readonly deadLetterLingerMs: number;

  // Deadlines of SQS calls, start-up, health (the SQS client, prepare, health, stall monitor).
  readonly sqsCallTimeoutMs: number;
  /** Lowered to sqsCallTimeoutMs when that is shorter. */
  readonly sqsConnectTimeoutMs: number;
  /** A long poll's deadline is its wait plus this. */
  readonly receiveDeadlineMarginMs: number;
  /** Queue checks at start before giving up; 0: until stopped. */
  readonly startupMaxAttempts: number;
  readonly stallWarnIntervalSeconds: number;
  /** /healthz fails when a poller or a writer holding visits has been silent this long. */
  readonly healthMaxSilenceSeconds: number;

  // Isolation between visit types (machines/isolation.ts, the writer, the circuit breakers).
  /** While another type is active, a type holds at most this share of MAX_IN_FLIGHT; 100: no cap (the only value with one type). */
  readonly typeSharePercent: number;
  readonly deferUpToReceive: number;
  readonly deferSeconds: number;
  readonly deferBusySeconds: number;
  readonly breakerFailures: number;
  readonly breakerOpenMs: number;

  // Backoffs and graces of the pollers, the supervisor, start-up and shutdown.
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
  /** After SHUTDOWN_GRACE_MS, how long releasing what is left (visibility 0) may take before the process stops anyway. */
  readonly releaseGraceMs: number;

  // Logs.
  /** One `stats` line per interval (every counter over the interval); 0: none. */
  readonly statsIntervalMs: number;
}

export const TUNING: Tuning = {
  retryBaseMs: 200,
  retryMaxMs: 10_000,
  ackRetries: 3,
  ackRetryBaseMs: 200,
  deadLetterAfterReceives: 5,
  heartbeatSeconds: undefined,

  deadLetterRetrySeconds: 30,
  deadLetterLingerMs: 200,

  sqsCallTimeoutMs: 10_000,
  sqsConnectTimeoutMs: 3_000,
  receiveDeadlineMarginMs: 5_000,
  startupMaxAttempts: 0,
  stallWarnIntervalSeconds: 30,
  healthMaxSilenceSeconds: 120,

  typeSharePercent: 70,
  // Below the redrive policy of the queues this project creates: deferring alone never dead-letters a visit.
  deferUpToReceive: MAX_RECEIVE_COUNT - 1,
  deferSeconds: 30,
  deferBusySeconds: 2,
  breakerFailures: 3,
  breakerOpenMs: 1_000,

  pollBackoffBaseMs: 500,
  pollBackoffMaxMs: 30_000,
  pollStopGraceMs: 500,
  restartBackoffBaseMs: 1_000,
  restartBackoffMaxMs: 30_000,
  startupBackoffBaseMs: 1_000,
  startupBackoffMaxMs: 30_000,
  releaseGraceMs: 5_000,
  statsIntervalMs: 60_000,
};

/** The range each value must stay in (inclusive): a value outside stops the start like a bad knob. */
export const TUNING_RANGES: { readonly [K in Exclude<keyof Tuning, 'heartbeatSeconds'>]: readonly [number, number] } = {
  retryBaseMs: [1, 600_000],
  retryMaxMs: [1, 3_600_000],
  ackRetries: [0, 20],
  ackRetryBaseMs: [1, 60_000],
  deadLetterAfterReceives: [1, 1_000],
  deadLetterRetrySeconds: [1, 900],
  deadLetterLingerMs: [0, 60_000],
  sqsCallTimeoutMs: [100, 300_000],
  sqsConnectTimeoutMs: [100, 60_000],
  receiveDeadlineMarginMs: [500, 60_000],
  startupMaxAttempts: [0, 1_000_000],
  stallWarnIntervalSeconds: [1, 86_400],
  healthMaxSilenceSeconds: [2, 86_400],
  typeSharePercent: [1, 100],
  deferUpToReceive: [0, 100],
  deferSeconds: [1, 900],
  deferBusySeconds: [1, 900],
  breakerFailures: [1, 1_000],
  breakerOpenMs: [10, 60_000],
  pollBackoffBaseMs: [1, 600_000],
  pollBackoffMaxMs: [1, 3_600_000],
  pollStopGraceMs: [0, 60_000],
  restartBackoffBaseMs: [1, 600_000],
  restartBackoffMaxMs: [1, 3_600_000],
  startupBackoffBaseMs: [1, 600_000],
  startupBackoffMaxMs: [1, 3_600_000],
  releaseGraceMs: [0, 600_000],
  statsIntervalMs: [0, 86_400_000],
};

/**
 * The variables earlier versions read for these values. They are no longer read; one set in the
 * environment is named in the start-up warning of ./knob-spelling.ts, so an operator learns it has no effect.
 */
export const REMOVED_KNOBS: readonly string[] = [
  'HEARTBEAT_SECONDS',
  'RETRY_BASE_MS',
  'RETRY_MAX_MS',
  'ACK_RETRIES',
  'ACK_RETRY_BASE_MS',
  'DEAD_LETTER_AFTER_RECEIVES',
  'DEAD_LETTER_RETRY_SECONDS',
  'DEAD_LETTER_LINGER_MS',
  'SQS_CALL_TIMEOUT_MS',
  'SQS_CONNECT_TIMEOUT_MS',
  'RECEIVE_DEADLINE_MARGIN_MS',
  'STARTUP_MAX_ATTEMPTS',
  'STALL_WARN_INTERVAL_SECONDS',
  'HEALTH_MAX_SILENCE_SECONDS',
  'TYPE_SHARE_PERCENT',
  'DEFER_UP_TO_RECEIVE',
  'DEFER_SECONDS',
  'DEFER_BUSY_SECONDS',
  'BREAKER_FAILURES',
  'BREAKER_OPEN_MS',
  'POLL_BACKOFF_BASE_MS',
  'POLL_BACKOFF_MAX_MS',
  'POLL_STOP_GRACE_MS',
  'RESTART_BACKOFF_BASE_MS',
  'RESTART_BACKOFF_MAX_MS',
  'STARTUP_BACKOFF_BASE_MS',
  'STARTUP_BACKOFF_MAX_MS',
  'RELEASE_GRACE_MS',
  'STATS_INTERVAL_MS',
];
