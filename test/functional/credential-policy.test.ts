/**
 * Which credentials the real processor signs with. A task role (the container credentials a
 * Fargate task gets, with no AWS_ACCESS_KEY_ID) must sign calls to an endpoint that is not on this
 * machine (a VPC endpoint, a proxy); the fixed local ones only when asked for. The endpoint here
 * records the Authorization header of the first call and refuses it, so the processor stops.
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import test, { type ExecutionContext } from 'ava';
import { outcomeOf, type Outcome } from '../support/run-script.ts';

/** An address of this machine that is not loopback: what a remote endpoint looks like to the processor. */
function externalAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
}

async function listen(server: Server, host: string): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return (server.address() as AddressInfo).port;
}

/** An SQS endpoint that keeps the headers of every request and answers each with AccessDenied. */
async function refusingEndpoint(host: string): Promise<{ url: string; requests: IncomingHttpHeaders[]; server: Server }> {
  const requests: IncomingHttpHeaders[] = [];
  const server = createServer((request, response) => {
    requests.push(request.headers);
    request.resume();
    request.on('end', () => {
      response.writeHead(403, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-query-error': 'AccessDenied;Sender' });
      response.end(JSON.stringify({ __type: 'com.amazonaws.sqs#AccessDenied', message: 'refused by the test' }));
    });
  });
  const port = await listen(server, host);
  return { url: `http://${host}:${port}`, requests, server };
}

/** The ECS container credentials endpoint, as the SDK's default chain reads it (AWS_CONTAINER_CREDENTIALS_FULL_URI). */
async function taskRole(): Promise<{ uri: string; server: Server }> {
  const server = createServer((_, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    const Expiration = new Date(Date.now() + 3_600_000).toISOString();
    response.end(JSON.stringify({ AccessKeyId: 'ASIATASKROLE', SecretAccessKey: 'task-secret', Token: 'task-token', Expiration }));
  });
  const port = await listen(server, '127.0.0.1');
  return { uri: `http://127.0.0.1:${port}/v2/credentials/task`, server };
}

function runProcessor(env: Record<string, string>): Promise<Outcome> {
  const base = { ...process.env };
  for (const name of Object.keys(base)) if (name.startsWith('AWS_')) delete base[name];
  const child = spawn(process.execPath, ['src/processor/main.ts'], {
    env: { ...base, LOG_JSON: '1', METRICS_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return outcomeOf(child).finally(() => clearTimeout(timer));
}

const credentialOf = (headers: IncomingHttpHeaders | undefined) => /Credential=([^/]+)\//.exec(String(headers?.authorization))?.[1];

const host = externalAddress();
const remoteTest = host ? test : test.skip;

/** The processor, with `env(url)`, against a refusing endpoint on this machine's outside address (closed when the test ends): it stops, exit 1. */
async function runRefused(t: ExecutionContext, env: (url: string) => Record<string, string>) {
  const endpoint = await refusingEndpoint(host!);
  t.teardown(() => endpoint.server.close());
  const outcome = await runProcessor(env(endpoint.url));
  t.is(outcome.code, 1, outcome.stdout + outcome.stderr);
  return { endpoint, outcome };
}

remoteTest('a task role signs the calls to a remote endpoint set by AWS_ENDPOINT_URL_SQS, not the fixed local credentials', async (t) => {
  const role = await taskRole();
  t.teardown(() => role.server.close());
  const { endpoint } = await runRefused(t, (url) => ({
    AWS_ENDPOINT_URL_SQS: url,
    TRAFFIC_QUEUE_URL: `${url}/123456789012/traffic`,
    AWS_CONTAINER_CREDENTIALS_FULL_URI: role.uri,
  }));
  t.true(endpoint.requests.length > 0, 'the endpoint was called');
  t.is(credentialOf(endpoint.requests[0]), 'ASIATASKROLE', String(endpoint.requests[0]?.authorization));
  t.is(endpoint.requests[0]?.['x-amz-security-token'], 'task-token');
});

remoteTest('TRAFFIC_LOCAL_CREDENTIALS=1 signs a remote endpoint (a LocalStack elsewhere) with the fixed local credentials', async (t) => {
  const { endpoint } = await runRefused(t, (url) => ({
    AWS_ENDPOINT_URL: url,
    TRAFFIC_QUEUE_URL: `${url}/000000000000/traffic`,
    TRAFFIC_LOCAL_CREDENTIALS: '1',
  }));
  t.is(credentialOf(endpoint.requests[0]), 'test');
});

remoteTest('no credentials anywhere for a remote endpoint: stops at start with one line saying so, not "did not answer" retries', async (t) => {
  const { endpoint, outcome } = await runRefused(t, (url) => ({
    AWS_ENDPOINT_URL: url,
    TRAFFIC_QUEUE_URL: `${url}/000000000000/traffic`,
    AWS_EC2_METADATA_DISABLED: 'true',
  }));
  t.is(endpoint.requests.length, 0, 'nothing sent unsigned or with made-up credentials');
  t.false(outcome.stdout.includes('did not answer'), outcome.stdout);
  const failure = outcome.stdout.split('\n').find((line) => line.includes('could not start'));
  t.regex(failure ?? '', /no AWS credentials to sign SQS calls with: .*TRAFFIC_LOCAL_CREDENTIALS=1/);
});
