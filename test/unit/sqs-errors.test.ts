/**
 * Which failed calls are tried again, and after how long, on the processor's per-message calls:
 * the SDK's standard retry mode.
 */
import test from 'ava';
import { isRetryable, retryDelayMs, sqsError } from '../../src/processor/sqs-errors.ts';

const answer = (status: number, type: string, headers: Record<string, string> = {}) =>
  sqsError({ status, headers, body: JSON.stringify({ __type: type, message: type }) }, 1);
const network = (code: string) => Object.assign(new Error(code), { code });

test('throttling, clock skew, server errors, timeouts and dropped connections are retried; client errors and aborts are not', (t) => {
  const retried = [
    answer(500, 'InternalError'),
    answer(503, 'ServiceUnavailable'),
    answer(429, 'SomethingElse'),
    answer(400, 'com.amazonaws.sqs#RequestThrottled'),
    answer(403, 'RequestTimeTooSkewed'),
    network('ECONNRESET'),
    network('ECONNREFUSED'),
    network('EPIPE'),
    Object.assign(new Error('slow'), { name: 'TimeoutError' }),
  ];
  const notRetried = [
    answer(400, 'com.amazonaws.sqs#QueueDoesNotExist', { 'x-amzn-query-error': 'AWS.SimpleQueueService.NonExistentQueue;Sender' }),
    answer(400, 'com.amazonaws.sqs#OverLimit'),
    answer(501, 'NotImplemented'),
    network('ENOTFOUND'),
    Object.assign(new Error('stop'), { name: 'AbortError', code: 'ABORT_ERR' }),
    new Error('Invalid MD5 checksum on messages: m-1'),
  ];
  for (const error of retried) t.true(isRetryable(error), `${error.name} ${error.message}`);
  for (const error of notRetried) t.false(isRetryable(error), `${error.name} ${error.message}`);
});

test('the wait before a retry: full jitter over 100 ms doubled per attempt, 500 ms when throttled, at most 20 s', (t) => {
  const server = answer(500, 'InternalError');
  const throttled = answer(400, 'ThrottlingException');
  const top = () => 0.999_999;
  t.is(
    retryDelayMs(1, server, () => 0),
    0,
  );
  t.is(retryDelayMs(1, server, top), 99);
  t.is(retryDelayMs(2, server, top), 199);
  t.is(
    retryDelayMs(3, server, () => 0.5),
    200,
  );
  t.is(retryDelayMs(1, throttled, top), 499);
  t.is(retryDelayMs(12, server, top), 20_000);
});

test('an answer that is not JSON is named by its status, with the fault by its status', (t) => {
  const error = sqsError({ status: 502, headers: {}, body: '<html>Bad Gateway</html>' }, 2);
  t.like(error, { name: 'HTTP502', Code: 'HTTP502', $fault: 'server', $metadata: { httpStatusCode: 502, attempts: 2 } });
  t.true(isRetryable(error));
  t.like(sqsError({ status: 404, headers: {}, body: '' }, 1), { name: 'HTTP404', $fault: 'client' });
});
