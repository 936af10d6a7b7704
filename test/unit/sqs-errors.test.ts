/**
 * SQS error answers read as the SDK reads them: the errors it makes, and how its retry strategy
 * is told of them (classified by the SDK's own functions, so the error's shape must be right);
 * and its clock correction.
 */
import test from 'ava';
import { QueueDoesNotExist } from '@aws-sdk/client-sqs';
import { clockOffsetAfter, type RetryErrorInfo, retryErrorInfo, skewCorrected, sqsError } from '../../src/processor/sqs/errors.ts';

const answer = (status: number, type: string, headers: Record<string, string> = {}) =>
  sqsError({ status, headers, body: JSON.stringify({ __type: type, message: `${type} happened` }) }, 1) as Error & { $metadata: Record<string, unknown> };
const network = (code: string) => Object.assign(new Error(code), { code });

test('errors are named as the SDK names them in query-compatible mode: the query error header first, then code, errortype header, __type', (t) => {
  const missing = answer(400, 'com.amazonaws.sqs#QueueDoesNotExist', { 'x-amzn-query-error': 'AWS.SimpleQueueService.NonExistentQueue;Sender' });
  t.true(missing instanceof QueueDoesNotExist, "the SDK's own error class");
  t.like(missing, {
    name: 'QueueDoesNotExist',
    message: 'com.amazonaws.sqs#QueueDoesNotExist happened',
    Code: 'AWS.SimpleQueueService.NonExistentQueue',
    Type: 'Sender',
    $fault: 'client',
    $metadata: { httpStatusCode: 400, attempts: 1 },
  });
  // The header's code names the error, not __type: what decides the retry (SignatureDoesNotMatch, RequestThrottled).
  t.like(answer(403, 'com.amazon.coral.service#InvalidSignatureException', { 'x-amzn-query-error': 'SignatureDoesNotMatch;Sender' }), {
    name: 'SignatureDoesNotMatch',
    Code: 'SignatureDoesNotMatch',
  });
  t.like(answer(400, 'com.amazon.coral.availability#ThrottlingException', { 'x-amzn-query-error': 'RequestThrottled;Sender' }), {
    name: 'RequestThrottled',
    Code: 'RequestThrottled',
  });
  t.like(answer(400, 'ignored', { 'x-amzn-errortype': 'RequestThrottled:http://internal.amazon.com/' }), { name: 'RequestThrottled', Code: undefined });
  t.like(sqsError({ status: 400, headers: {}, body: '{"code":"InvalidParameterValue","__type":"other"}' }, 1), { name: 'InvalidParameterValue' });
  t.like(sqsError({ status: 500, headers: { 'x-amzn-query-error': 'InternalError;Receiver' }, body: '{}' }, 2), {
    name: 'InternalError',
    Code: 'InternalError',
    Type: 'Receiver',
    $fault: 'server',
    $metadata: { attempts: 2 },
  });
  // Not JSON: the parser's error, as the SDK throws it, with the answer's metadata.
  t.like(sqsError({ status: 502, headers: { 'x-amzn-requestid': 'r-1' }, body: '<html>Bad Gateway</html>' }, 1), {
    name: 'SyntaxError',
    $metadata: { httpStatusCode: 502, requestId: 'r-1' },
  });
});

test('the retry strategy is told what the SDK tells it: throttling, transient, server or client error', (t) => {
  const cases: Array<[Error, RetryErrorInfo['errorType']]> = [
    [answer(400, 'com.amazonaws.sqs#RequestThrottled'), 'THROTTLING'],
    [answer(429, 'Whatever'), 'THROTTLING'],
    [answer(500, 'InternalError'), 'TRANSIENT'],
    [answer(503, 'ServiceUnavailable'), 'TRANSIENT'],
    [answer(501, 'NotImplemented'), 'SERVER_ERROR'],
    [answer(400, 'com.amazonaws.sqs#QueueDoesNotExist'), 'CLIENT_ERROR'],
    [answer(403, 'SignatureDoesNotMatch'), 'CLIENT_ERROR'],
    [network('ECONNRESET'), 'TRANSIENT'],
    [network('ENOTFOUND'), 'TRANSIENT'],
    [new Error('socket closed', { cause: network('EPIPE') }), 'TRANSIENT'],
    [Object.assign(new Error('slow'), { name: 'TimeoutError' }), 'TRANSIENT'],
    [Object.assign(new Error('stop'), { name: 'AbortError', code: 'ECONNRESET' }), 'CLIENT_ERROR'],
  ];
  for (const [error, type] of cases) t.is(retryErrorInfo(error).errorType, type, `${error.name}: ${error.message}`);
  // A skew the SDK would call corrected makes a signature error transient: retried, signed again with the server's clock.
  const skewed = answer(403, 'SignatureDoesNotMatch');
  (skewed.$metadata as { clockSkewCorrected?: boolean }).clockSkewCorrected = true;
  t.is(retryErrorInfo(skewed).errorType, 'TRANSIENT');
});

test('a Retry-After header reaches the retry strategy as the SDK reads it', (t) => {
  const error = sqsError({ status: 503, headers: { 'retry-after': '3' }, body: '{}' }, 1);
  const hint = retryErrorInfo(error).retryAfterHint;
  t.true(hint instanceof Date);
  t.true(Math.abs(hint!.getTime() - (Date.now() + 3_000)) < 1_000);
  t.is(retryErrorInfo(answer(503, 'X')).retryAfterHint, undefined);
});

test("the clock offset follows the server's Date header, unless the answer was cached or took over 15 minutes", (t) => {
  const now = Date.parse('2026-11-26T08:00:00Z');
  const tenMinutesAhead = { status: 200, headers: { date: 'Thu, 26 Nov 2026 08:10:00 GMT' }, body: '' };
  t.is(clockOffsetAfter(tenMinutesAhead, 0, now - 50, now), 600_000);
  t.is(clockOffsetAfter({ ...tenMinutesAhead, headers: { ...tenMinutesAhead.headers, age: '3' } }, 7, now - 50, now), 7);
  t.is(clockOffsetAfter(tenMinutesAhead, 7, now - 900_001, now), 7);
  t.is(clockOffsetAfter({ status: 200, headers: {}, body: '' }, 7, now, now), 7);
  t.is(clockOffsetAfter({ status: 200, headers: { date: 'not a date' }, body: '' }, 7, now, now), 7);
  t.true(skewCorrected(0, 600_000));
  t.false(skewCorrected(600_000, 600_000), 'already known');
  t.false(skewCorrected(0, 1_000), 'under the SDK threshold of 240 s');
});
