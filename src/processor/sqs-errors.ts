/**
 * SQS answers as the AWS SDK reads them, for the calls ./sqs-lean-calls.ts sends without its
 * middleware: error answers turned into the errors the SDK makes, how its retry strategy is told
 * what failed (classified by the SDK's own functions), and its clock correction. Pure: no I/O.
 */
import { HttpResponse } from '@smithy/core/protocols';
import { getRetryAfterHint, isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';

/** An error answer: named as the SDK names it, with the query-compatible code, who is at fault and the HTTP metadata. */
export class SqsError extends Error {
  /** The query-protocol code (`AWS.SimpleQueueService.NonExistentQueue`), or the name when the answer gives none. */
  readonly Code: string;
  readonly $fault: 'client' | 'server';
  readonly $metadata: { readonly httpStatusCode: number; readonly requestId?: string; attempts: number; clockSkewCorrected?: boolean };

  constructor(name: string, message: string, code: string, fault: 'client' | 'server', metadata: SqsError['$metadata']) {
    super(message);
    this.name = name;
    this.Code = code;
    this.$fault = fault;
    this.$metadata = metadata;
  }
}

/** Each error's answer, for the retry strategy (its Retry-After header); not on the error, which is logged. */
const responses = new WeakMap<SqsError, HttpResponse>();

export interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

const header = (answer: Answer, name: string): string | undefined => {
  const value = answer.headers[name];
  return typeof value === 'string' ? value : undefined;
};

/**
 * The error an error answer stands for. Its name, as the SDK's JSON protocol finds it: the
 * `x-amzn-errortype` header, else the body's `code`, else its `__type`, without namespace or
 * suffix; `Unknown` when there is none. The code and the fault come from `x-amzn-query-error`
 * when SQS sends it (`Code;Sender`), else from the name and the status.
 */
export function sqsError(answer: Answer, attempts: number): SqsError {
  let parsed: { __type?: unknown; code?: unknown; message?: unknown; Message?: unknown } = {};
  try {
    parsed = JSON.parse(answer.body);
  } catch {
    // Not JSON (a proxy's page, say): named by its status below.
  }
  const type = [header(answer, 'x-amzn-errortype'), parsed.code, parsed.__type].find((v): v is string => typeof v === 'string' && v !== '') ?? '';
  const name = type.split(':')[0]!.split('#').pop() || 'Unknown';
  const [queryCode, queryFault] = (header(answer, 'x-amzn-query-error') ?? '').split(';');
  const fault = queryFault ? (queryFault === 'Sender' ? 'client' : 'server') : answer.status < 500 ? 'client' : 'server';
  const message = String(parsed.message ?? parsed.Message ?? `HTTP ${answer.status} ${name}`);
  const error = new SqsError(name, message, queryCode || name, fault, {
    httpStatusCode: answer.status,
    requestId: header(answer, 'x-amzn-requestid'),
    attempts,
  });
  responses.set(error, new HttpResponse({ statusCode: answer.status, headers: answer.headers as Record<string, string>, body: answer.body }));
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
  const retryAfterHint = error instanceof SqsError ? getRetryAfterHint(responses.get(error)) : undefined;
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
