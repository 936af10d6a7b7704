/** The agent's environment: what is required, what is honoured, and one clear line when it is wrong. */
import test from 'ava';
import { AgentConfigError, loadAgentConfig } from '../../src/agent/config.ts';

const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/dev-traffic-queue';

test('TRAFFIC_QUEUE_URL is required: one line naming it', (t) => {
  for (const env of [{}, { TRAFFIC_QUEUE_URL: '' }]) {
    const error = t.throws(() => loadAgentConfig(env), { instanceOf: AgentConfigError });
    t.regex(error!.message, /^TRAFFIC_QUEUE_URL is not set: expected the http\(s\) URL of the PIPELINE queue/);
    t.false(error!.message.includes('\n'));
    t.false(error!.stack!.includes('\n'), 'no stack trace through the loader in the Lambda log');
  }
});

test('a malformed URL names the variable and the value', (t) => {
  t.throws(() => loadAgentConfig({ TRAFFIC_QUEUE_URL: 'dev-traffic-queue' }), { message: /^TRAFFIC_QUEUE_URL="dev-traffic-queue" is invalid: expected/ });
  t.throws(() => loadAgentConfig({ TRAFFIC_QUEUE_URL: QUEUE, AWS_ENDPOINT_URL: 'localhost:4566' }), {
    message: /^AWS_ENDPOINT_URL="localhost:4566" is invalid/,
  });
  t.throws(() => loadAgentConfig({ TRAFFIC_QUEUE_URL: 'ftp://x/y' }), { message: /TRAFFIC_QUEUE_URL/ });
});

test('on AWS: no endpoint, the runtime region, the default credential chain', (t) => {
  t.deepEqual(loadAgentConfig({ TRAFFIC_QUEUE_URL: QUEUE, AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'ASIA...' }), {
    queueUrl: QUEUE,
    endpoint: undefined,
    region: 'eu-west-1',
    localCredentials: false,
    allowedOrigins: new Set(),
  });
});

test('AWS_ENDPOINT_URL (what LocalStack injects) is honoured; AWS_ENDPOINT_URL_SQS wins over it', (t) => {
  const local = loadAgentConfig({ TRAFFIC_QUEUE_URL: QUEUE, AWS_ENDPOINT_URL: 'http://localhost.localstack.cloud:4566' });
  t.is(local.endpoint, 'http://localhost.localstack.cloud:4566');
  t.true(local.localCredentials, 'a local endpoint without credentials in the environment gets test ones');
  t.is(local.region, 'us-east-1');
  const specific = loadAgentConfig({ TRAFFIC_QUEUE_URL: QUEUE, AWS_ENDPOINT_URL: 'http://a:1', AWS_ENDPOINT_URL_SQS: 'http://b:2', AWS_ACCESS_KEY_ID: 'test' });
  t.is(specific.endpoint, 'http://b:2');
  t.false(specific.localCredentials, 'credentials from the environment (LocalStack Lambda sets them) are used');
});
