/**
 * docker-compose.yml parsed (pinned images, socket mount, ports), every Makefile recipe
 * dry-run with `make -n`, and the no-Docker recipes run for real: start the processor,
 * create one visit of each type, see one write line in each table.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import test from 'ava';
import { parse } from 'yaml';
import { freePort } from '../support/sqs.ts';

const compose = parse(readFileSync('docker-compose.yml', 'utf8')) as { services: Record<string, any>; networks?: Record<string, any> };

test('every image is pinned to an exact version, LocalStack defaults to the token-free 4.14.0', (t) => {
  for (const [name, service] of Object.entries(compose.services)) {
    if (service.build) continue; // built here from the Dockerfile (test/infra/dockerfile.test.ts)
    const image = String(service.image).replace(/^\$\{\w+:-(.*)\}$/, '$1');
    t.regex(image, /:[0-9][\w.-]*$/, `${name} image ${image} has an exact tag`);
    t.false(image.endsWith(':latest'));
  }
  t.is(compose.services.localstack.image, '${LOCALSTACK_IMAGE:-localstack/localstack:4.14.0}');
  t.is(compose.services.localstack.environment.LOCALSTACK_AUTH_TOKEN, '${LOCALSTACK_AUTH_TOKEN:-}');
});

test('LocalStack can run Lambda containers: socket mounted, network found under any project name, SQS port on loopback', (t) => {
  const localstack = compose.services.localstack;
  t.true(localstack.volumes.includes('/var/run/docker.sock:/var/run/docker.sock'));
  // Empty unless the user sets it: LocalStack then puts Lambda containers on its own network,
  // which compose names after the project (traffic_default only under the name traffic).
  t.is(localstack.environment.LAMBDA_DOCKER_NETWORK, '${LAMBDA_DOCKER_NETWORK:-}');
  t.notRegex(JSON.stringify(compose), /_default/, 'no network name derived from a project name');
  for (const network of Object.values<any>(compose.networks ?? {})) t.falsy(network?.name, 'no fixed network name');
  // On loopback only; LOCALSTACK_PORT (exported by the Makefile) moves it off a taken 4566.
  t.deepEqual(localstack.ports, ['127.0.0.1:${LOCALSTACK_PORT:-4566}:4566']);
  for (const service of ['sqs', 'lambda', 'iam']) t.true(String(localstack.environment.SERVICES).split(',').includes(service));
  t.is(compose.services.processor.environment.TRAFFIC_QUEUE_URL, 'http://localstack:4566/000000000000/dev-traffic-queue');
});

test('the processor service runs the image built from the Dockerfile, not the checkout on a stock Node image', (t) => {
  const processor = compose.services.processor;
  t.deepEqual(processor.build, { context: '.', dockerfile: 'Dockerfile' });
  t.false(String(processor.image).startsWith('node:'), 'not a stock node image');
  t.is(processor.command, undefined, "the image's CMD (npm start's flags)");
  t.deepEqual(processor.volumes ?? [], [], 'no bind-mounted checkout, no node_modules volume');
  t.is(processor.environment.METRICS_PORT, '9464', 'the port the image HEALTHCHECK asks');
  t.deepEqual(processor.ports, ['127.0.0.1:9464:9464']);
});

test('Terraform and the AWS CLI run as the host user the Makefile exports', (t) => {
  for (const name of ['terraform', 'aws-cli']) {
    t.is(compose.services[name].user, '${HOST_UID:-1000}:${HOST_GID:-1000}', name);
    t.is(compose.services[name].environment.HOME, '/tmp', `${name} has a writable HOME as that user`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'traffic-uid-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'print.mk'), `include ${resolve('Makefile')}\nprint-ids:\n\t@echo "$$HOST_UID:$$HOST_GID"\n`);
  const env = { ...process.env };
  delete env.HOST_UID;
  delete env.HOST_GID;
  const ids = execFileSync('make', ['-s', '-f', join(dir, 'print.mk'), 'print-ids'], { encoding: 'utf8', env }).trim();
  t.is(ids, `${process.getuid!()}:${process.getgid!()}`);
});

test('.gitignore keeps Terraform working data and state out of git, but not the provider lock file', (t) => {
  const ignored = (path: string) => spawnSync('git', ['check-ignore', '-q', '--no-index', path]).status === 0;
  for (const env of ['dev', 'prod']) {
    for (const path of ['.terraform/providers/x', 'terraform.tfstate', 'terraform.tfstate.backup', '.terraform.tfstate.lock.info']) {
      t.true(ignored(`terraform/environments/${env}/${path}`), `${env}/${path}`);
    }
    t.false(ignored(`terraform/environments/${env}/.terraform.lock.hcl`), 'lock file can be committed');
  }
  t.false(ignored('Dockerfile'));
});

test('.env.example names a real token-era LocalStack tag and says which versions need the token', (t) => {
  const text = readFileSync('.env.example', 'utf8');
  const tokenEra = /^# LOCALSTACK_IMAGE=localstack\/localstack:(\d{4})\.(\d{2})\.(\d+)$/m.exec(text);
  t.truthy(tokenEra, 'a calendar-version tag');
  t.true(Number(tokenEra![1]) * 100 + Number(tokenEra![2]) >= 202603, 'March 2026 or later');
  t.regex(text, /^# LOCALSTACK_AUTH_TOKEN=/m);
  t.regex(text, /4\.14\.0.*without a token/);
  t.regex(text, /calendar versions \(2026\.03\.0 and later\)[\s\S]*LOCALSTACK_AUTH_TOKEN/);
  t.notRegex(text, /localstack:4\.(1[5-9]|[2-9]\d)\b/, 'no 4.x tag after 4.14.0: there is none');
});

const RECIPES = [
  'all',
  'help',
  'up',
  'apply',
  'deploy-traffic-agent-lambda',
  'create-traffic-type-in',
  'create-traffic-direct',
  'create-traffic-referrer',
  'start-traffic-processor',
  'stop',
  'logs',
  'queues',
  'dlq',
  'redrive',
  'sqs',
  'agent-url',
  'build-agent',
  'reset',
  'install',
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
  const pidDir = mkdtempSync(join(tmpdir(), 'traffic-e2e-'));
  t.teardown(() => rmSync(pidDir, { recursive: true, force: true }));
  const processorEnv = {
    ...process.env,
    EMBEDDED_SQS_PORT: String(port),
    AGENT_PORT: '0',
    LOG_JSON: '1',
    RECEIVE_WAIT_SECONDS: '1',
    PROCESSOR_PID_FILE: join(pidDir, 'processor.pid'),
  };
  // The one variable the recipes and the processor share for the endpoint.
  const env = { ...process.env, EMBEDDED_SQS_PORT: String(port) };
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
  // Each recipe's visit is written once, in its table, with the agent's visit_id and its ip or url.
  const recipes = [
    { recipe: 'create-traffic-type-in', table: 'traffic_type_in', field: 'ip', value: '127.0.0.1' },
    { recipe: 'create-traffic-referrer', table: 'traffic_referrer', field: 'url', value: 'test.com' },
  ];
  for (const { recipe, table, field, value } of recipes) {
    const answer = invoke(recipe);
    t.is(answer.statusCode, 202, recipe);
    const write = await next((e) => e.msg === 'write');
    t.is(write.table, table);
    t.deepEqual(
      write.rows.map((r: any) => [r.visit_id, r[field]]),
      [[JSON.parse(answer.body).visit_id, value]],
    );
  }

  signalGroup('SIGTERM');
  const stopped = await next((e) => e.msg === 'processor stopped');
  t.is(stopped.stats.written['type-in'], 1);
  t.is(stopped.stats.written.referrer, 1);
});
