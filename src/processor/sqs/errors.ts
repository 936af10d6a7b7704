/**
 * SQS error answers as the AWS SDK reads them in its query-compatible JSON mode, for the calls
 * ./lean-calls.ts sends without its middleware: the same error classes (the SDK's own,
 * exported by @aws-sdk/client-sqs), names, codes and faults; how its retry strategy is told what
 * failed (classified by the SDK's own functions); and its clock correction. Pure: no I/O.
 */
import * as sqs from '@aws-sdk/client-sqs';
import { SQSServiceException } from '@aws-sdk/client-sqs';
import { getRetryAfterHint } from '@smithy/middleware-retry';
import { isServerError, isThrottlingError, isTransientError } from '@smithy/service-error-classification';

export interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

type Metadata = { httpStatusCode: number; requestId?: string; attempts: number; clockSkewCorrected?: boolean };
type ErrorClass = new (options: { message: string; $metadata: Metadata }) => SQSServiceException;

/**
 * The SDK's modeled errors, by the name its JSON answers give and by the query-protocol code of
 * the `x-amzn-query-error` header (its schemas' awsQueryError trait): the same classes, so
 * `instanceof QueueDoesNotExist` holds on either path. A version bump that moves the trait shows
 * in the differential tests (test/functional/sqs-lean-calls.test.ts).
 */
const MODELED = new Map<string, ErrorClass>();
for (const [name, value] of Object.entries(sqs)) {
  if (typeof value !== 'function' || !(value.prototype instanceof SQSServiceException)) continue;
  MODELED.set(name, value as unknown as ErrorClass);
  const traits = (sqs as unknown as Record<string, unknown[] | undefined>)[`${name}$`]?.[3] as { awsQueryError?: [string] } | undefined;
  const queryCode = traits?.awsQueryError?.[0];
  if (queryCode && !MODELED.has(queryCode)) MODELED.set(queryCode, value as unknown as ErrorClass);
}

const header = (answer: Answer, name: string): string | undefined => {
  const value = answer.headers[name];
  return typeof value === 'string' ? value : undefined;
};

/** The SDK's clean-up of an error code: the part before ',' and ':', the name after '#'. */
function sanitized(raw: unknown): string {
  let code = String(raw);
  if (code.includes(',')) code = code.split(',')[0]!;
  if (code.includes(':')) code = code.split(':')[0]!;
  if (code.includes('#')) code = code.split('#')[1]!;
  return code;
}

/**
 * The error an error answer stands for, as the SDK makes it in query-compatible mode: with an
 * `x-amzn-query-error` header (`AWS.SimpleQueueService.NonExistentQueue;Sender`), its code names
 * the error (its modeled class when there is one) and becomes `Code`, its fault `Type`; without
 * it, the body's `code`, the `x-amzn-errortype` header, then `__type`, in that order. `$fault`
 * is the modeled error's, else from the status. The answer rides along unlisted (`$response`),
 * as on the SDK's errors, for the retry strategy's Retry-After.
 */
export function sqsError(answer: Answer, attempts: number): Error {
  let data: Record<string, unknown> = {};
  try {
    const parsed: unknown = answer.body === '' ? {} : JSON.parse(answer.body);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) data = parsed as Record<string, unknown>;
  } catch (error) {
    // Not JSON (a proxy's page, say): the parser's error, as the SDK throws it.
    return unreadableAnswer(error as Error, answer, attempts);
  }
  const queryError = header(answer, 'x-amzn-query-error');
  let query: { Error?: Record<string, unknown> } = {};
  if (queryError !== undefined) {
    const [Code, Type] = queryError.split(';');
    const { __type: _, ...rest } = data;
    const queryFields: Record<string, unknown> = { Code, Type };
    for (const [key, value] of Object.entries(rest)) queryFields[key === 'message' ? 'Message' : key] = value;
    query = { Error: queryFields };
    data = { ...data, Code, Type };
  }
  const codeKey = Object.keys(data).find((key) => key.toLowerCase() === 'code');
  const errorType = header(answer, 'x-amzn-errortype');
  const raw = codeKey !== undefined && data[codeKey] !== undefined ? data[codeKey] : (errorType ?? data.__type);
  const name = raw === undefined ? 'Unknown' : sanitized(raw);
  const message = String(data.message ?? data.Message ?? 'UnknownError');
  const $metadata: Metadata = { httpStatusCode: answer.status, requestId: header(answer, 'x-amzn-requestid'), attempts };
  const Modeled = MODELED.get(name);
  const error: SQSServiceException = Modeled
    ? new Modeled({ message, $metadata })
    : new SQSServiceException({ name, $fault: answer.status < 500 ? 'client' : 'server', $metadata, message });
  // As the SDK decorates its query-compatible errors: the answer's fields where the error has none, then `Error` and the request id.
  const fields = error as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(data)) if (value !== undefined && (fields[key] == null || fields[key] === '')) fields[key] = value;
  delete fields.Message;
  const given = query.Error ?? {};
  fields.Error = { ...given, Type: given.Type, Code: given.Code, Message: given.message ?? given.Message ?? message };
  if ($metadata.requestId) fields.RequestId = $metadata.requestId;
  Object.defineProperty(error, '$response', { value: { statusCode: answer.status, headers: answer.headers, body: answer.body }, enumerable: false });
  return error;
}

/** An answer whose body is not JSON, as the SDK reports it: the parser's error, with the answer's metadata and a hint. */
export function unreadableAnswer(error: Error, answer: Answer, attempts: number): Error {
  error.message += '\n  Deserialization error: to see the raw response, inspect the hidden field {error}.$response on this object.';
  Object.assign(error, { $metadata: { httpStatusCode: answer.status, requestId: header(answer, 'x-amzn-requestid'), attempts } });
  Object.defineProperty(error, '$response', { value: { statusCode: answer.status, headers: answer.headers, body: answer.body }, enumerable: false });
  return error;
}

/** What a retry strategy of the SDK is told about a failed attempt. */
export interface RetryErrorInfo {
  readonly error: Error;
  readonly errorType: 'THROTTLING' | 'TRANSIENT' | 'SERVER_ERROR' | 'CLIENT_ERROR';
  readonly retryAfterHint?: Date;
}

type Classified = Parameters<typeof isTransientError>[0];

/** What the SDK's retry middleware tells its retry strategy about a failed attempt, classified by the SDK's own functions. */
export function retryErrorInfo(error: Error): RetryErrorInfo {
  const e = error as Classified;
  const errorType = isThrottlingError(e) ? 'THROTTLING' : isTransientError(e) ? 'TRANSIENT' : isServerError(e) ? 'SERVER_ERROR' : 'CLIENT_ERROR';
  const retryAfterHint = getRetryAfterHint((error as { $response?: never }).$response);
  return { error, errorType, ...(retryAfterHint ? { retryAfterHint } : {}) };
}

/** The SDK's clock correction: the server's clock from an answer's Date header, unless the answer was cached or slow. */
export function clockOffsetAfter(answer: Answer, currentOffsetMs: number, sentAt: number, now = Date.now()): number {
  const date = header(answer, 'date');
  if (date === undefined || header(answer, 'age') !== undefined) return currentOffsetMs;
  const serverTime = Date.parse(date);
  if (Number.isNaN(serverTime) || now - sentAt > 900_000) return currentOffsetMs;
  return serverTime - now;
}

/** Whether a new clock offset corrects a skew the SDK would call corrected (its error is then retried). */
export function skewCorrected(previousOffsetMs: number, newOffsetMs: number): boolean {
  return Math.abs(newOffsetMs) >= 240_000 && newOffsetMs !== previousOffsetMs;
}
