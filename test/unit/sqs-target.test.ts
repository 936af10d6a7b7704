/** Operators' mistakes about where SQS calls go, refused by pure checks before any call is made. */
import test from 'ava';
import { AgentConfigError, loadAgentConfig } from '../../src/agent/config.ts';
import { ConfigError, sqsConnection } from '../../src/platform/config.ts';
import { isLocalEndpoint, isRegionName, queueIdentity, sameQueue } from '../../src/platform/sqs-target.ts';
import { loadConfig } from '../../src/processor/config/config.ts';

test('region names of every partition are regions; anything else is not', (t) => {
  for (const region of ['us-east-1', 'eu-west-3', 'ap-southeast-7', 'mx-central-1', 'us-gov-west-1', 'cn-north-1', 'cn-northwest-1']) {
    t.true(isRegionName(region), region);
  }
  for (const region of ['us-iso-east-1', 'us-isob-east-1', 'eu-isoe-west-1', 'us-isof-south-1', 'eusc-de-east-1', 'il-central-1']) {
    t.true(isRegionName(region), region);
  }
  for (const bad of ['../../etc', 'us-east-1/../x', 'US-EAST-1', 'useast1', 'us-east', 'local', 'us-east-1.', 'us_east_1', ' us-east-1', 'a-b-1', '']) {
    t.false(isRegionName(bad), bad);
  }
});

test('a region that is not a region stops every program with one line naming the variable read', (t) => {
  const processor = t.throws(() => loadConfig({ AWS_REGION: '../../etc' }), { instanceOf: ConfigError });
  t.is(processor!.message, 'AWS_REGION="../../etc" is invalid: expected an AWS region such as us-east-1, eu-west-3, us-gov-west-1 or cn-north-1');
  t.false(processor!.stack!.includes('\n'));
  t.throws(() => sqsConnection({ AWS_DEFAULT_REGION: 'eu west 1' }), { message: /^AWS_DEFAULT_REGION="eu west 1" is invalid/ });
  // AWS_REGION wins, so a bad AWS_DEFAULT_REGION beside a good AWS_REGION is never read.
  t.is(sqsConnection({ AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'x' }).region, 'eu-west-1');
  t.throws(() => loadAgentConfig({ TRAFFIC_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/q', AWS_REGION: '../../etc' }), {
    instanceOf: AgentConfigError,
    message: /^AWS_REGION="\.\.\/\.\.\/etc" is invalid/,
  });
});

test('local endpoints: loopback addresses, localhost names and LocalStack; nothing else', (t) => {
  const local = [
    'http://127.0.0.1:4566',
    'http://127.8.9.10:4566',
    'http://127.1:4566',
    'http://0x7f.0.0.1:4566',
    'http://[::1]:4566',
    'http://[::ffff:127.0.0.1]:4566',
    'http://localhost:4566',
    'http://LOCALHOST.:4566',
    'http://sqs.localhost:4566',
    'http://localstack:4566',
    'http://localhost.localstack.cloud:4566',
    'http://sqs.us-east-1.localhost.localstack.cloud:4566',
  ];
  for (const endpoint of local) t.true(isLocalEndpoint(endpoint), endpoint);
  const remote = [
    'https://vpce-0a1b2c3d-abcd.sqs.us-east-1.vpce.amazonaws.com',
    'https://sqs.us-east-1.amazonaws.com',
    'http://10.0.0.5:4566',
    'http://128.0.0.1:4566',
    'http://[::2]:4566',
    'http://localhost.example.com:4566',
    'http://mylocalstack:4566',
    'http://localstack.evil.example:4566',
    'http://host.docker.internal:4566',
    'not a url',
  ];
  for (const endpoint of remote) t.false(isLocalEndpoint(endpoint), endpoint);
});

test('fixed local credentials: a local endpoint without AWS_ACCESS_KEY_ID, or TRAFFIC_LOCAL_CREDENTIALS=1; never for a remote endpoint', (t) => {
  const vpce = 'https://vpce-0a1b2c3d-abcd.sqs.us-east-1.vpce.amazonaws.com';
  // A Fargate task: the role's credentials come from the container endpoint, not AWS_ACCESS_KEY_ID.
  t.false(sqsConnection({ AWS_ENDPOINT_URL_SQS: vpce }).localCredentials, 'a VPC endpoint signs with the default chain');
  t.false(loadConfig({ AWS_ENDPOINT_URL_SQS: vpce, TRAFFIC_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/q' }).localCredentials);
  t.false(loadAgentConfig({ TRAFFIC_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/q', AWS_ENDPOINT_URL: vpce }).localCredentials);
  t.true(sqsConnection({ AWS_ENDPOINT_URL: 'http://localstack:4566' }).localCredentials, 'the compose network');
  t.true(sqsConnection({ AWS_ENDPOINT_URL: 'http://localhost:4566' }).localCredentials);
  t.false(sqsConnection({ AWS_ENDPOINT_URL: 'http://localhost:4566', AWS_ACCESS_KEY_ID: 'AKIA' }).localCredentials, 'credentials set are used');
  t.true(sqsConnection({ AWS_ENDPOINT_URL: 'http://10.0.0.5:4566', TRAFFIC_LOCAL_CREDENTIALS: '1' }).localCredentials, 'asked for');
  t.false(sqsConnection({ AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', TRAFFIC_LOCAL_CREDENTIALS: '0', AWS_ACCESS_KEY_ID: 'AKIA' }).localCredentials);
  t.throws(() => sqsConnection({ TRAFFIC_LOCAL_CREDENTIALS: '1' }), { message: /^TRAFFIC_LOCAL_CREDENTIALS=1 is invalid without an SQS endpoint/ });
  t.throws(() => sqsConnection({ AWS_ENDPOINT_URL: 'http://10.0.0.5:4566', TRAFFIC_LOCAL_CREDENTIALS: 'yes' }), {
    message: /^TRAFFIC_LOCAL_CREDENTIALS="yes" is invalid: expected one of 0, 1$/,
  });
  t.true(loadConfig({}).localCredentials, 'the embedded endpoint (127.0.0.1)');
});

test('queue identity: region, account and name, whatever the host', (t) => {
  t.deepEqual(queueIdentity('https://sqs.eu-west-1.amazonaws.com/123456789012/q', 'us-east-1'), { region: 'eu-west-1', account: '123456789012', name: 'q' });
  t.deepEqual(queueIdentity('arn:aws:sqs:eu-west-1:123456789012:q', 'us-east-1'), { region: 'eu-west-1', account: '123456789012', name: 'q' });
  t.deepEqual(queueIdentity('http://localhost:4566/queue/eu-west-2/000000000000/q', 'us-east-1'), { region: 'eu-west-2', account: '000000000000', name: 'q' });
  t.deepEqual(queueIdentity('http://127.0.0.1:4566/000000000000/q', 'us-east-1'), { region: 'us-east-1', account: '000000000000', name: 'q' });
  t.is(queueIdentity('http://127.0.0.1:4566/', 'us-east-1'), undefined);
});

test('the same queue however its URL is written', (t) => {
  const same: Array<[string, string]> = [
    ['https://sqs.us-east-1.amazonaws.com/123/q', 'https://sqs.us-east-1.amazonaws.com/123/q/'],
    ['https://sqs.us-east-1.amazonaws.com/123/q', 'https://SQS.US-EAST-1.AMAZONAWS.COM:443/123/q'],
    ['https://sqs.us-east-1.amazonaws.com/123/q', 'https://us-east-1.queue.amazonaws.com/123/q'],
    ['https://sqs.us-east-1.amazonaws.com/123/q', 'https://vpce-0a1b-c2d3.sqs.us-east-1.vpce.amazonaws.com/123/q'],
    ['https://sqs.us-east-1.amazonaws.com/123/q', 'arn:aws:sqs:us-east-1:123:q'],
    ['http://localhost:4566/000000000000/q', 'http://127.0.0.1:4566/000000000000/q'],
    ['http://localhost:4566/000000000000/q', 'http://sqs.us-east-1.localhost.localstack.cloud:4566/000000000000/q'],
    ['http://localhost:4566/000000000000/q', 'http://localhost:4566/queue/us-east-1/000000000000/q'],
    ['http://localhost:4566/000000000000/q', 'arn:aws:sqs:us-east-1:000000000000:q'],
    ['http://localhost:4566/000000000000/q', 'http://localhost:4566/000000000000/%71'],
  ];
  for (const [a, b] of same) t.true(sameQueue(a, b, 'us-east-1'), `${a} = ${b}`);
  const different: Array<[string, string]> = [
    ['https://sqs.us-east-1.amazonaws.com/123/q', 'https://sqs.us-east-1.amazonaws.com/123/q-dlq'],
    ['https://sqs.us-east-1.amazonaws.com/123/q', 'https://sqs.us-east-1.amazonaws.com/456/q'],
    ['https://sqs.us-east-1.amazonaws.com/123/q', 'https://sqs.eu-west-1.amazonaws.com/123/q'],
    ['https://sqs.us-east-1.amazonaws.com/123/q', 'https://sqs.us-east-1.amazonaws.com/123/Q'],
    ['http://localhost:4566/000000000000/q', 'arn:aws:sqs:eu-west-1:000000000000:q'],
  ];
  for (const [a, b] of different) t.false(sameQueue(a, b, 'us-east-1'), `${a} != ${b}`);
});

test('TRAFFIC_DLQ_URL naming the PIPELINE itself is refused in one line', (t) => {
  const cases: Array<[string, string, Record<string, string>]> = [
    ['https://sqs.us-east-1.amazonaws.com/123456789012/q', 'https://sqs.us-east-1.amazonaws.com/123456789012/q/', {}],
    ['http://localhost:4566/000000000000/q', 'http://127.0.0.1:4566/000000000000/q', { AWS_ENDPOINT_URL: 'http://localhost:4566' }],
    ['https://sqs.eu-west-1.amazonaws.com/123456789012/q', 'https://vpce-1.sqs.eu-west-1.vpce.amazonaws.com/123456789012/q', { AWS_REGION: 'eu-west-1' }],
  ];
  for (const [queue, dlq, env] of cases) {
    const error = t.throws(() => loadConfig({ ...env, TRAFFIC_QUEUE_URL: queue, TRAFFIC_DLQ_URL: dlq }), { instanceOf: ConfigError });
    t.true(error!.message.startsWith(`TRAFFIC_DLQ_URL=${dlq} is invalid: it names the same queue as TRAFFIC_QUEUE_URL`), error!.message);
    t.false(error!.message.includes('\n'));
  }
  const ok = loadConfig({ TRAFFIC_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123/q', TRAFFIC_DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/123/q-dlq' });
  t.is(ok.dlqUrl, 'https://sqs.us-east-1.amazonaws.com/123/q-dlq');
});
