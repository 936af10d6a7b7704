/**
 * docker-compose.yml parsed (pinned images, socket mount, ports), every Makefile recipe
 * dry-run with `make -n`, and the no-Docker recipes run for real: start the processor,
 * create one visit of each type, see one write line in each table.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import test from 'ava';
import { parse } from 'yaml';
import { freePort } from '../support/sqs.ts';

const compose = parse(readFileSync('docker-compose.yml', 'utf8')) as { services: Record<string, any> };

test('every image is pinned to an exact version, LocalStack defaults to the token-free 4.14.0', (t) => {
  for (const [name, service] of Object.entries(compose.services)) {
    const image = String(service.image).replace(/^\$\{\w+:-(.*)\}$/, '$1');
    t.regex(image, /:[0-9][\w.-]*$/, `${name} image ${image} has an exact tag`);
    t.false(image.endsWith(':latest'));
  }
  t.is(compose.services.localstack.image, '${LOCALSTACK_IMAGE:-localstack/localstack:4.14.0}');
  t.is(compose.services.localstack.environment.LOCALSTACK_AUTH_TOKEN, '${LOCALSTACK_AUTH_TOKEN:-}');
});

test('LocalStack can run Lambda containers: socket mounted, network set, SQS port on loopback', (t) => {
  const localstack = compose.services.localstack;
  t.true(localstack.volumes.includes('/var/run/docker.sock:/var/run/docker.sock'));
  t.truthy(localstack.environment.LAMBDA_DOCKER_NETWORK);
  t.deepEqual(localstack.ports, ['127.0.0.1:4566:4566']);
  for (const service of ['sqs', 'lambda', 'iam']) t.true(String(localstack.environment.SERVICES).split(',').includes(service));
  t.is(compose.services.processor.environment.TRAFFIC_QUEUE_URL, 'http://localstack:4566/000000000000/dev-traffic-queue');
});

const RECIPES = [
  'all', 'help', 'up', 'apply', 'deploy-traffic-agent-lambda', 'create-traffic-type-in', 'create-traffic-direct',
  'create-traffic-referrer', 'start-traffic-processor', 'stop', 'logs', 'queues', 'dlq', 'redrive', 'build-agent',
];

for (const local of [false, true]) {
  test(`make -n succeeds for every recipe${local ? ' with LOCAL=1' : ''}`, (t) => {
    for (const recipe of RECIPES) {
      const out = execFileSync('make', ['-n', ...(local ? ['LOCAL=1'] : []), recipe], { encoding: 'utf8' });
      t.true(out.length > 0, recipe);
      if (local) t.false(out.includes('docker'), `${recipe} needs no Docker with LOCAL=1`);
    }
  });
}

test('the no-Docker recipes run end to end: one write line in each table', async (t) => {
  const port = await freePort();
  const processorEnv = { ...process.env, EMBEDDED_SQS_PORT: String(port), LOG_JSON: '1', RECEIVE_WAIT_SECONDS: '1' };
  const env = { ...process.env, AWS_ENDPOINT_URL: `http://127.0.0.1:${port}` };
  const processor = spawn('make', ['-s', 'LOCAL=1', 'start-traffic-processor'], {
    env: processorEnv,
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  // Signals go to the whole group, as Ctrl-C in a terminal does (make and the processor).
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-processor.pid!, signal);
    } catch {
      // already gone
    }
  };
  t.teardown(() => signalGroup('SIGKILL'));
  const lines = createInterface({ input: processor.stdout! })[Symbol.asyncIterator]();
  const next = async (until: (entry: any) => boolean) => {
    for (;;) {
      const { value, done } = await lines.next();
      if (done) throw new Error('the processor exited');
      const entry = JSON.parse(value);
      if (until(entry)) return entry;
    }
  };
  await next((e) => e.msg === 'processor starting');

  const invoke = (recipe: string) => JSON.parse(execFileSync('make', ['-s', 'LOCAL=1', recipe], { env, encoding: 'utf8' }));
  const typeIn = invoke('create-traffic-type-in');
  t.is(typeIn.statusCode, 202);
  const typeInWrite = await next((e) => e.msg === 'write');
  t.is(typeInWrite.table, 'traffic_type_in');
  t.deepEqual(typeInWrite.rows.map((r: any) => [r.visit_id, r.ip]), [[JSON.parse(typeIn.body).visit_id, '127.0.0.1']]);

  const referrer = invoke('create-traffic-referrer');
  t.is(referrer.statusCode, 202);
  const referrerWrite = await next((e) => e.msg === 'write');
  t.is(referrerWrite.table, 'traffic_referrer');
  t.deepEqual(referrerWrite.rows.map((r: any) => [r.visit_id, r.url]), [[JSON.parse(referrer.body).visit_id, 'test.com']]);

  signalGroup('SIGTERM');
  const stopped = await next((e) => e.msg === 'processor stopped');
  t.is(stopped.stats.written['type-in'], 1);
  t.is(stopped.stats.written.referrer, 1);
});
