/**
 * SQS error answers as the AWS SDK turns them into errors, and which of them its standard retry
 * mode tries again, for the calls ./sqs-lean-calls.ts sends without the SDK. Pure: no I/O.
 */

/** An error answer: named as the SDK names it, with the query-compatible code, who is at fault and the HTTP metadata. */
export class SqsError extends Error {
  /** The query-protocol code (`AWS.SimpleQueueService.NonExistentQueue`), or the name when the answer gives none. */
  readonly Code: string;
  readonly $fault: 'client' | 'server';
  readonly $metadata: { readonly httpStatusCode: number; readonly requestId?: string; readonly attempts: number };

  constructor(name: string, message: string, code: string, fault: 'client' | 'server', metadata: SqsError['$metadata']) {
    super(message);
    this.name = name;
    this.Code = code;
    this.$fault = fault;
    this.$metadata = metadata;
  }
}

interface ErrorAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

/**
 * The error an answer stands for. The name is the JSON `__type` without its namespace; the code and
 * the fault come from the `x-amzn-query-error` header when SQS sends it (`Code;Sender`).
 */
export function sqsError(answer: ErrorAnswer, attempts: number, message?: string): SqsError {
  let parsed: { __type?: unknown; message?: unknown; Message?: unknown } = {};
  try {
    parsed = JSON.parse(answer.body);
  } catch {
    // Not JSON (a proxy's page, say): named by its status below.
  }
  const type = typeof parsed.__type === 'string' ? parsed.__type : '';
  const name = type.split('#').pop()?.split(':')[0] || (answer.status === 0 ? 'DeserializationError' : `HTTP${answer.status}`);
  const queryError = String(answer.headers['x-amzn-query-error'] ?? '').split(';');
  const fault = queryError[1] === 'Sender' || (queryError[1] === undefined && answer.status > 0 && answer.status < 500) ? 'client' : 'server';
  const text = message ?? String(parsed.message ?? parsed.Message ?? `HTTP ${answer.status}`);
  const requestId = answer.headers['x-amzn-requestid'];
  return new SqsError(name, text, queryError[0] || name, fault, {
    httpStatusCode: answer.status,
    requestId: typeof requestId === 'string' ? requestId : undefined,
    attempts,
  });
}

// The SDK's lists (@smithy/service-error-classification).
const THROTTLING = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
]);
const CLOCK_SKEW = new Set([
  'AuthFailure',
  'InvalidSignatureException',
  'RequestExpired',
  'RequestInTheFuture',
  'RequestTimeTooSkewed',
  'SignatureDoesNotMatch',
]);
const TRANSIENT_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);
const TRANSIENT_STATUS = new Set([500, 502, 503, 504]);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT']);

export function isThrottling(error: Error): boolean {
  return THROTTLING.has(error.name) || (error instanceof SqsError && error.$metadata.httpStatusCode === 429);
}

export function isClockSkew(error: Error): boolean {
  return CLOCK_SKEW.has(error.name);
}

/** What the SDK's standard mode retries: throttling, clock skew, server errors, timeouts and dropped connections; never an abort. */
export function isRetryable(error: Error): boolean {
  if (error.name === 'AbortError') return false;
  if (isThrottling(error) || isClockSkew(error) || TRANSIENT_NAMES.has(error.name)) return true;
  if (error instanceof SqsError) return TRANSIENT_STATUS.has(error.$metadata.httpStatusCode);
  return NETWORK_CODES.has((error as { code?: string }).code ?? '');
}

/** The wait before the next attempt: full jitter over 100 ms (500 ms when throttled) doubled per attempt made, at most 20 s. */
export function retryDelayMs(attempts: number, error: Error, random = Math.random): number {
  const base = isThrottling(error) ? 500 : 100;
  return Math.floor(Math.min(20_000, random() * base * 2 ** (attempts - 1)));
}
