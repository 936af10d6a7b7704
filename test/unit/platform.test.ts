import test from 'ava';
import { AgentConfigError } from '../../src/agent/config.ts';
import { createAgentLogger } from '../../src/agent/logger.ts';
import { ConfigError, sqsConnection } from '../../src/platform/config.ts';
import { createSqsClient, LOCAL_CREDENTIALS } from '../../src/platform/sqs.ts';
import { loadConfig } from '../../src/processor/config/config.ts';
import { createReporter, createStats } from '../../src/processor/runtime/report.ts';
import { capturedLogger } from '../support/captured-logger.ts';

const capture = () => capturedLogger('debug', 'test');

/** What the AWS SDK throws for a failed call: a ServiceException with $fault and $metadata. */
function awsError() {
  return Object.assign(new Error('Access to the resource is denied'), {
    name: 'AccessDenied',
    $fault: 'client',
    $metadata: { httpStatusCode: 403, requestId: 'req-1', attempts: 1, totalRetryDelay: 0 },
  });
}

test('an error is logged with its type, stack, cause and the AWS fault and metadata', (t) => {
  const { lines, logger } = capture();
  logger.error({ err: new Error('outer', { cause: awsError() }) }, 'failed');
  logger.error({ err: awsError() }, 'failed');
  const [withCause, aws] = lines.map((l) => l.err as Record<string, unknown>);
  t.is(withCause.type, 'Error');
  t.regex(String(withCause.stack), /^Error: outer\n\s+at /);
  const cause = withCause.cause as Record<string, unknown>;
  t.regex(String(cause.stack), /^AccessDenied: Access to the resource is denied\n\s+at /);
  t.is(cause.$fault, 'client');
  t.is(aws.type, 'Error');
  t.is(aws.message, 'Access to the resource is denied');
  t.is(aws.$fault, 'client');
  t.deepEqual(aws.$metadata, { httpStatusCode: 403, requestId: 'req-1', attempts: 1 });
});

test('credentials are redacted the same way for every program', (t) => {
  const { lines, logger } = capture();
  logger.info(
    { credentials: { accessKeyId: 'AKIA1', secretAccessKey: 'S3CR3T', sessionToken: 'T0K3N' }, headers: { authorization: 'AWS4 x', Authorization: 'AWS4 y' } },
    'x',
  );
  const text = JSON.stringify(lines[0]);
  for (const secret of ['AKIA1', 'S3CR3T', 'T0K3N', 'AWS4 x', 'AWS4 y']) t.false(text.includes(secret), secret);
  t.is((lines[0].credentials as Record<string, string>).secretAccessKey, '[Redacted]');
});

test('a crashed actor is logged with the stack of its error, not a flattened string', (t) => {
  const { lines, logger } = capture();
  const report = createReporter(logger, createStats());
  report({ kind: 'child-crashed', child: 'writer-referrer', restarts: 1, delayMs: 1_000, error: new TypeError('boom') });
  report({ kind: 'receive-failed', poller: 'poller-1', attempt: 1, delayMs: 500, error: awsError() });
  const [crash, receive] = lines.map((l) => l.err as Record<string, unknown>);
  t.is(crash.type, 'TypeError');
  t.regex(String(crash.stack), /^TypeError: boom\n\s+at /);
  t.is((receive.$metadata as { httpStatusCode: number }).httpStatusCode, 403);
});

test('a bad LOG_LEVEL is refused by the processor and by the agent, with the same line', (t) => {
  const processor = t.throws(() => loadConfig({ LOG_LEVEL: 'verbose' }), { instanceOf: ConfigError });
  const agent = t.throws(() => createAgentLogger({ LOG_LEVEL: 'verbose' }), { instanceOf: AgentConfigError });
  t.is(processor!.message, 'LOG_LEVEL="verbose" is invalid: expected one of fatal, error, warn, info, debug, trace, silent');
  t.is(agent!.message, processor!.message);
  t.is(createAgentLogger({ LOG_LEVEL: 'warn' }).level, 'warn');
  t.is(loadConfig({ LOG_LEVEL: 'warn' }).logLevel, 'warn');
});

test('one credential policy: an endpoint without AWS_ACCESS_KEY_ID signs with local credentials, otherwise the default chain', async (t) => {
  t.deepEqual(sqsConnection({ AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' }), { endpoint: 'http://127.0.0.1:4566', region: 'us-east-1', localCredentials: true });
  t.false(sqsConnection({ AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', AWS_ACCESS_KEY_ID: 'AKIA' }).localCredentials);
  t.false(sqsConnection({ AWS_REGION: 'eu-west-1' }).localCredentials, 'AWS: the default chain');
  t.true(loadConfig({}).localCredentials, 'the embedded endpoint is local');
  t.false(loadConfig({ TRAFFIC_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/q' }).localCredentials, 'a queue on AWS');
  t.true(loadConfig({ TRAFFIC_QUEUE_URL: 'http://127.0.0.1:4566/000000000000/q', AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' }).localCredentials);
  const local = createSqsClient(sqsConnection({ AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' }));
  t.teardown(() => local.destroy());
  const credentials = await (local.config.credentials as () => Promise<{ accessKeyId: string; secretAccessKey: string }>)();
  t.is(credentials.accessKeyId, LOCAL_CREDENTIALS.accessKeyId);
  t.is(credentials.secretAccessKey, LOCAL_CREDENTIALS.secretAccessKey);
});
