/**
 * The Makefile recipes run for real with `docker` and `npm` replaced by recorders on PATH
 * (no Docker engine here): what each recipe runs, in which order, and that a failure of
 * anything it runs fails the recipe with its reason. `make LOCAL=1 stop` is checked against
 * a real processor started by `make LOCAL=1 start-traffic-processor`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';
import test, { type ExecutionContext } from 'ava';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { localSqsClient } from '../../src/platform/sqs.ts';
import { startEmbeddedEndpoint } from '../../src/processor/sqs/embedded.ts';
import { PROCESSOR_NODE_FLAGS } from '../support/node-flags.ts';
import { outcomeOf } from '../support/run-script.ts';
import { drainQueue, freePort, queueDepth, waitFor } from '../support/sqs.ts';

const ROOT = resolve('.');

/**
 * `docker` and `npm` stand-ins: each call is appended to $CALLS as one line. `docker compose
 * version --short` prints $FAKE_COMPOSE_VERSION (or fails as docker does without the plugin);
 * `docker info` answers as a running engine unless $FAKE_ENGINE_DOWN is set (then it fails as
 * docker does with no daemon); `terraform output -raw agent_url` prints $FAKE_AGENT_URL (or fails
 * as Terraform does without that output); `lambda get-function-configuration` prints
 * $FAKE_ALLOWED_ORIGINS; `aws lambda invoke` writes $FAKE_LAMBDA_PAYLOAD to its outfile and prints
 * $FAKE_FUNCTION_ERROR (as `--query FunctionError --output text` does: None when the function did
 * not fail); a call containing $FAKE_FAIL exits with $FAKE_FAIL_CODE; `npm ci` creates node_modules.
 */
const FAKE_DOCKER = `#!/bin/sh
echo "docker $*" >> "$CALLS"
case "$*" in
  "compose version --short")
    if [ -z "$FAKE_COMPOSE_VERSION" ]; then echo "docker: unknown command: docker compose" >&2; exit 1; fi
    echo "$FAKE_COMPOSE_VERSION"; exit 0;;
  "info --format {{.ServerVersion}}")
    if [ -n "$FAKE_ENGINE_DOWN" ]; then
      printf '\nCannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n' >&2; exit 1; fi
    echo 28.2.2; exit 0;;
esac
if [ -n "$FAKE_FAIL" ]; then case "$*" in *"$FAKE_FAIL"*) echo "fake docker: failing: $*" >&2; exit "$FAKE_FAIL_CODE";; esac; fi
case "$*" in
  *"terraform output -raw agent_url")
    if [ -z "$FAKE_AGENT_URL" ]; then echo 'Error: Output "agent_url" not found' >&2; exit 1; fi
    printf '%s' "$FAKE_AGENT_URL";;
  *"lambda get-function-configuration"*) echo "\${FAKE_ALLOWED_ORIGINS:-None}";;
  *"lambda invoke"*)
    for last in "$@"; do :; done
    printf '%s' "$FAKE_LAMBDA_PAYLOAD" > "$last"
    echo "\${FAKE_FUNCTION_ERROR:-None}";;
esac
exit 0
`;
const FAKE_NPM = `#!/bin/sh
echo "npm $*" >> "$CALLS"
if [ -n "$FAKE_FAIL" ]; then case "$*" in *"$FAKE_FAIL"*) echo "fake npm: failing: $*" >&2; exit "$FAKE_FAIL_CODE";; esac; fi
if [ "$1" = ci ]; then mkdir -p node_modules && : > node_modules/.package-lock.json; fi
exit 0
`;

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Every docker and npm call, in order. */
  readonly calls: string[];
}

/** A checkout with the Makefile and the lock file, node_modules installed or not. */
function checkout(options: { installed: boolean }): string {
  const dir = mkdtempSync(join(tmpdir(), 'traffic-make-'));
  for (const file of ['Makefile', 'package.json', 'package-lock.json']) copyFileSync(join(ROOT, file), join(dir, file));
  mkdirSync(join(dir, 'terraform/environments/dev'), { recursive: true });
  const bin = join(dir, 'fake-bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'docker'), FAKE_DOCKER);
  writeFileSync(join(bin, 'npm'), FAKE_NPM);
  chmodSync(join(bin, 'docker'), 0o755);
  chmodSync(join(bin, 'npm'), 0o755);
  if (options.installed) {
    mkdirSync(join(dir, 'node_modules'));
    writeFileSync(join(dir, 'node_modules/.package-lock.json'), '');
  }
  return dir;
}

function make(dir: string, args: string[], env: Record<string, string> = {}): Run {
  const calls = join(dir, 'calls.log');
  rmSync(calls, { force: true });
  const result = spawnSync('make', ['--no-print-directory', ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: `${join(dir, 'fake-bin')}:${process.env.PATH}`, HOME: dir, CALLS: calls, FAKE_FAIL_CODE: '1', ...env },
    timeout: 60_000,
  });
  const log = existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n').filter(Boolean) : [];
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, calls: log };
}

const withCompose = { FAKE_COMPOSE_VERSION: '2.29.1' };
/** The checks every Docker recipe makes first (Compose's version, the engine). */
const PREFLIGHT = ['docker compose version --short', 'docker info --format {{.ServerVersion}}'];
const notVersionCheck = (call: string) => !PREFLIGHT.includes(call);

const dirs: string[] = [];
const fresh = (installed: boolean) => {
  const dir = checkout({ installed });
  dirs.push(dir);
  return dir;
};
test.after.always(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Every recipe that needs Docker (all but help, install and build-agent). */
const DOCKER_RECIPES = [
  'all',
  'reset',
  'up',
  'apply',
  'deploy-traffic-agent-lambda',
  'agent-url',
  'create-traffic-type-in',
  'create-traffic-direct',
  'create-traffic-referrer',
  'start-traffic-processor',
  'sqs',
  'stop',
  'logs',
  'queues',
  'dlq',
  'redrive',
];

/** What a recipe printed on stderr, less make's own `***` lines. */
const ownLines = (stderr: string) => stderr.split('\n').filter((line) => line && !line.startsWith('make: ***') && !line.startsWith('make[1]: ***'));

test('without Docker Compose v2, a Docker recipe fails with one line naming make LOCAL=1, before running anything', (t) => {
  const dir = fresh(true);
  for (const recipe of DOCKER_RECIPES) {
    const run = make(dir, [recipe]);
    t.not(run.status, 0, recipe);
    const ours = ownLines(run.stderr);
    t.is(ours.length, 1, `${recipe}: ${run.stderr}`);
    t.regex(ours[0], new RegExp(`Docker Compose v2 .* is not available: .*make LOCAL=1 ${recipe}$`), recipe);
    t.deepEqual(run.calls.filter(notVersionCheck), [], `${recipe} ran nothing else`);
    t.is(run.stdout, '', `${recipe} printed nothing else`);
  }
  const old = make(dir, ['up'], { FAKE_COMPOSE_VERSION: 'v2.3.0' });
  t.not(old.status, 0);
  t.regex(old.stderr, /Docker Compose 2\.3\.0 is older than 2\.\d+\.\d+: upgrade it, or run without Docker: make LOCAL=1 up/);
});

test('with the Docker client but no running engine, a Docker recipe fails with one line naming the engine, before running anything', (t) => {
  const dir = fresh(true);
  for (const recipe of DOCKER_RECIPES) {
    const run = make(dir, [recipe], { ...withCompose, FAKE_ENGINE_DOWN: '1' });
    t.not(run.status, 0, recipe);
    t.deepEqual(
      ownLines(run.stderr),
      [
        `make: the Docker engine is not running (docker info: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?): start it, or run without Docker: make LOCAL=1 ${recipe}`,
      ],
      recipe,
    );
    t.deepEqual(run.calls.filter(notVersionCheck), [], `${recipe} ran nothing else`);
    t.is(run.stdout, '', `${recipe} printed nothing else`);
  }
  // With the engine up the same recipe goes on.
  t.is(make(dir, ['up'], withCompose).status, 0);
});

/** A function URL as LocalStack 4.14 names it: http://<url-id>.lambda-url.<region>.<LOCALSTACK_HOST>/ */
const LOCALSTACK_AGENT_URL = 'http://p6ksx0abc9def8ghi7jkl6mno5pqr4st.lambda-url.us-east-1.localhost.localstack.cloud:4566/';
const AGENT_URL_CALLS = [
  'docker compose run --rm -T terraform output -raw agent_url',
  'docker compose run --rm -T aws-cli lambda get-function-configuration --function-name dev-traffic-agent --query Environment.Variables.AGENT_ALLOWED_ORIGINS --output text',
];
const withAgent = { ...withCompose, FAKE_AGENT_URL: LOCALSTACK_AGENT_URL, FAKE_ALLOWED_ORIGINS: 'https://www.example.org,https://shop.example.org' };

test('make restarts the environment: down with volumes, old Terraform state removed, LocalStack up, agent built, init, apply', (t) => {
  const dir = fresh(true);
  const state = join(dir, 'terraform/environments/dev/terraform.tfstate');
  writeFileSync(state, '{}');
  writeFileSync(`${state}.backup`, '{}');
  const run = make(dir, [], withAgent);
  t.is(run.status, 0, run.stderr);
  t.deepEqual(run.calls.filter(notVersionCheck), [
    'docker compose --profile processor --profile tools down --volumes --remove-orphans',
    'docker compose up -d --wait localstack',
    'npm run -s build:agent',
    'docker compose run --rm terraform init -input=false',
    'docker compose run --rm terraform apply -input=false -auto-approve',
    ...AGENT_URL_CALLS,
  ]);
  t.regex(run.stdout, new RegExp(`^agent HTTP entry: ${LOCALSTACK_AGENT_URL.replaceAll('.', '\\.')}$`, 'm'));
  t.false(existsSync(state), 'fresh state');
  t.false(existsSync(`${state}.backup`));
});

test('make stops at the first step that fails and exits non-zero', (t) => {
  const dir = fresh(true);
  const run = make(dir, [], { ...withCompose, FAKE_FAIL: 'up -d --wait localstack' });
  t.not(run.status, 0);
  t.regex(run.stderr, /fake docker: failing: compose up -d --wait localstack/);
  t.false(
    run.calls.some((call) => call.includes('terraform')),
    'Terraform does not run against a LocalStack that did not start',
  );
  const apply = make(dir, ['apply'], { ...withCompose, FAKE_FAIL: 'terraform init' });
  t.not(apply.status, 0);
  t.false(apply.calls.some((call) => call.includes('terraform apply')));
});

const hasCurl = spawnSync('curl', ['--version']).status === 0;

// Skipped, and shown as skipped, where curl is not installed: the line it checks is a curl line.
(hasCurl ? test : test.skip)(
  "deploy-traffic-agent-lambda applies only the agent module, then prints the URL and a curl line that reaches LocalStack's port here",
  async (t) => {
    // Stands in for LocalStack on its published port: records what the printed line sends.
    const requests: Array<Record<string, string | undefined>> = [];
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        const { host, origin } = request.headers;
        requests.push({ method: request.method, path: request.url, host, origin, contentType: request.headers['content-type'], body });
        response.writeHead(202).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.teardown(() => server.close());
    const port = String((server.address() as { port: number }).port);

    const run = make(fresh(true), ['deploy-traffic-agent-lambda'], { ...withAgent, LOCALSTACK_PORT: port });
    t.is(run.status, 0, run.stderr);
    t.deepEqual(run.calls.filter(notVersionCheck), [
      'npm run -s build:agent',
      'docker compose run --rm terraform init -input=false',
      'docker compose run --rm terraform apply -input=false -auto-approve -target=module.traffic.module.traffic_agent',
      ...AGENT_URL_CALLS,
    ]);
    const lines = run.stdout.trim().split('\n');
    t.true(lines.includes(`agent HTTP entry: ${LOCALSTACK_AGENT_URL}`), run.stdout);
    const curl = lines.find((line) => line.startsWith('try it: curl '))?.slice('try it: '.length);
    t.truthy(curl, run.stdout);

    // The line as a person pastes it (plus options that keep curl quiet and print the status).
    const tried = await outcomeOf(
      spawn('sh', ['-c', `${curl} --silent --show-error --max-time 10 --output /dev/null --write-out '%{http_code}'`], { stdio: ['ignore', 'pipe', 'pipe'] }),
    );
    t.is(tried.code, 0, tried.stderr);
    t.is(tried.stdout, '202');
    t.deepEqual(requests, [
      {
        method: 'POST',
        path: '/',
        // LocalStack routes a function URL by this header: <url-id>.lambda-url.<region>.<anything>.
        host: new URL(LOCALSTACK_AGENT_URL).host,
        origin: 'https://www.example.org',
        contentType: 'text/plain',
        body: '{"type":"referrer","url":"https://example.com/"}',
      },
    ]);
  },
);

test('agent-url: without the Terraform output it fails saying to deploy first; without allowed origins the curl line says what to put; an AWS URL is left as it is', (t) => {
  const dir = fresh(true);
  const missing = make(dir, ['agent-url'], withCompose);
  t.not(missing.status, 0);
  t.deepEqual(
    ownLines(missing.stderr).filter((line) => !line.startsWith('Error: Output')),
    ['make: no agent_url output in terraform/environments/dev: deploy first (make, or make deploy-traffic-agent-lambda)'],
  );
  const noOrigins = make(dir, ['agent-url'], { ...withCompose, FAKE_AGENT_URL: LOCALSTACK_AGENT_URL });
  t.is(noOrigins.status, 0, noOrigins.stderr);
  t.regex(noOrigins.stdout, /-H 'Origin: <an origin in AGENT_ALLOWED_ORIGINS>'/);
  const aws = 'https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws/';
  const deployed = make(dir, ['agent-url'], { ...withAgent, FAKE_AGENT_URL: aws });
  t.is(deployed.status, 0, deployed.stderr);
  t.true(
    deployed.stdout.includes(
      `try it: curl -X POST -H 'Origin: https://www.example.org' -H 'content-type: text/plain' --data '{"type":"referrer","url":"https://example.com/"}' ${aws}`,
    ),
    deployed.stdout,
  );
});

test('start-traffic-processor builds the image and fails when the processor exits non-zero', (t) => {
  const dir = fresh(true);
  const ok = make(dir, ['start-traffic-processor'], withCompose);
  t.is(ok.status, 0, ok.stderr);
  t.deepEqual(ok.calls.filter(notVersionCheck), ['docker compose --profile processor up --build --exit-code-from processor processor']);
  const failed = make(dir, ['start-traffic-processor'], { ...withCompose, FAKE_FAIL: 'up --build', FAKE_FAIL_CODE: '3' });
  t.not(failed.status, 0);
  t.regex(failed.stderr, /Error 3/);
});

const accepted = JSON.stringify({ statusCode: 202, body: JSON.stringify({ visit_id: 'v-1' }) });

test('create-traffic-* invoke the agent Lambda and print its response', (t) => {
  const dir = fresh(true);
  for (const [recipe, event] of [
    ['create-traffic-type-in', '{"queryStringParameters":{"type":"type-in","ip":"127.0.0.1"}}'],
    ['create-traffic-direct', '{"queryStringParameters":{"type":"direct","ip":"127.0.0.1"}}'],
    ['create-traffic-referrer', '{"queryStringParameters":{"type":"referrer","url":"test.com"}}'],
  ]) {
    const run = make(dir, [recipe], { ...withCompose, FAKE_LAMBDA_PAYLOAD: accepted });
    t.is(run.status, 0, run.stderr);
    t.deepEqual(run.calls.filter(notVersionCheck), [
      `docker compose run --rm -T aws-cli lambda invoke --function-name dev-traffic-agent --cli-binary-format raw-in-base64-out --payload ${event} --query FunctionError --output text dist/agent-response.json`,
    ]);
    t.is(run.stdout.trim(), accepted);
  }
});

test('create-traffic-* fail with the function error when the Lambda returns FunctionError, or rejects the visit', (t) => {
  const dir = fresh(true);
  const error = JSON.stringify({ errorType: 'QueueError', errorMessage: 'the queue refused the visit' });
  const failed = make(dir, ['create-traffic-type-in'], { ...withCompose, FAKE_LAMBDA_PAYLOAD: error, FAKE_FUNCTION_ERROR: 'Unhandled' });
  t.not(failed.status, 0);
  t.regex(failed.stderr, /dev-traffic-agent failed \(Unhandled\): .*the queue refused the visit/);
  const rejected = make(dir, ['create-traffic-referrer'], {
    ...withCompose,
    FAKE_LAMBDA_PAYLOAD: JSON.stringify({ statusCode: 400, body: '{"error":"url is invalid"}' }),
  });
  t.not(rejected.status, 0);
  t.regex(rejected.stderr, /did not accept the visit: .*"statusCode":400/);
  const cliFailed = make(dir, ['create-traffic-referrer'], { ...withCompose, FAKE_FAIL: 'lambda invoke' });
  t.not(cliFailed.status, 0);
  t.regex(cliFailed.stderr, /aws lambda invoke dev-traffic-agent failed/);
});

test('on a fresh clone, every recipe that runs project code installs node_modules first', (t) => {
  const cases: Array<[string[], string]> = [
    [['build-agent'], 'npm run -s build:agent'],
    [['apply'], 'npm run -s build:agent'],
    [['redrive'], 'npm run -s redrive'],
    [['queues'], 'npm run -s queues'],
    [['dlq'], 'npm run -s dlq'],
    [['LOCAL=1', 'create-traffic-type-in'], 'npm run -s agent:invoke -- {"queryStringParameters":{"type":"type-in","ip":"127.0.0.1"}}'],
    [['LOCAL=1', 'create-traffic-referrer'], 'npm run -s agent:invoke -- {"queryStringParameters":{"type":"referrer","url":"test.com"}}'],
    [['LOCAL=1', 'deploy-traffic-agent-lambda'], 'npm run -s build:agent'],
    [['LOCAL=1', 'redrive'], 'npm run -s redrive'],
    [['LOCAL=1', 'queues'], 'npm run -s queues'],
    [['LOCAL=1', 'dlq'], 'npm run -s dlq'],
    [['LOCAL=1', 'sqs'], 'npm run -s sqs'],
    [['LOCAL=1'], ''],
  ];
  for (const [args, command] of cases) {
    const dir = fresh(false);
    const run = make(dir, args, withAgent);
    const npm = run.calls.filter((call) => call.startsWith('npm '));
    t.is(run.status, 0, `${args.join(' ')}: ${run.stderr}`);
    t.is(npm[0], 'npm ci --no-audit --no-fund', `${args.join(' ')} installs first`);
    if (command) t.is(npm[1], command, args.join(' '));
    // Installed once: the second run does not reinstall.
    const again = make(dir, args, withAgent);
    t.false(again.calls.includes('npm ci --no-audit --no-fund'), `${args.join(' ')} does not reinstall`);
  }
  const failedInstall = make(fresh(false), ['LOCAL=1', 'create-traffic-type-in'], { FAKE_FAIL: 'ci' });
  t.not(failedInstall.status, 0);
  t.false(
    failedInstall.calls.some((call) => call.includes('agent:invoke')),
    'nothing runs on a failed install',
  );
});

test('make help says what every recipe does, with Docker and with LOCAL=1', (t) => {
  const phony = /^\.PHONY:((?:.*\\\n)*.*)$/m
    .exec(readFileSync(join(ROOT, 'Makefile'), 'utf8'))![1]
    .replace(/\\\n/g, ' ')
    .trim()
    .split(/\s+/);
  const recipes = phony.filter((name) => name !== 'docker-ready');
  t.deepEqual([...recipes].sort(), [...DOCKER_RECIPES, 'help', 'install', 'build-agent'].sort(), 'the lists here name every recipe');
  for (const args of [[], ['LOCAL=1']]) {
    const run = spawnSync('make', ['-s', ...args, 'help'], { cwd: ROOT, encoding: 'utf8' });
    t.is(run.status, 0, run.stderr);
    const lines = run.stdout.split('\n');
    for (const recipe of recipes) {
      const at = lines.findIndex((line) => line.startsWith(`  ${recipe} `));
      t.true(at > 0, `${recipe} is listed`);
      const docker = lines[at].slice(2 + recipe.length).trim();
      const local = /^\s+LOCAL=1: (.+)$/.exec(lines[at + 1] ?? '')?.[1];
      t.true(docker.length > 10, `${recipe} says what it does with Docker`);
      t.truthy(local, `${recipe} says what it does with LOCAL=1`);
      if (DOCKER_RECIPES.includes(recipe)) t.not(local, 'the same', `${recipe} differs under LOCAL=1 and says how`);
      else t.is(local, 'the same', recipe);
    }
  }
});

/** make in the checkout, as a person runs it: the real npm and scripts, `docker` as PATH has it. */
function makeHere(args: string[], env: NodeJS.ProcessEnv) {
  return outcomeOf(spawn('make', ['-s', '--no-print-directory', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** The embedded endpoint on a free port, as `npm start` serves it, and a client of it; both stopped when the test ends. */
async function embeddedEndpoint(t: ExecutionContext) {
  const port = await freePort();
  const sqs = await startEmbeddedEndpoint(port);
  t.teardown(() => sqs.stop());
  const client = localSqsClient(sqs.endpoint);
  t.teardown(() => client.destroy());
  return { port, sqs, client };
}

/** A dead letter as the processor leaves one: the body unchanged, the reason in attributes. */
const DEAD_LETTER = '{"type":"bogus","created_at":1764000000000}';
async function deadLetter(client: SQSClient, dlqUrl: string): Promise<void> {
  await client.send(
    new SendMessageCommand({
      QueueUrl: dlqUrl,
      MessageBody: DEAD_LETTER,
      MessageAttributes: {
        error_code: { DataType: 'String', StringValue: 'unknown_type' },
        error_message: { DataType: 'String', StringValue: 'type is not a known visit type' },
      },
    }),
  );
}

test('make LOCAL=1 follows EMBEDDED_SQS_PORT alone: create-traffic-type-in, queues, dlq, then redrive moves the message back', async (t) => {
  const { port, sqs, client } = await embeddedEndpoint(t);
  // What a shell may still hold from other work: LOCAL=1 leaves it aside.
  const env = {
    ...process.env,
    EMBEDDED_SQS_PORT: String(port),
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    TRAFFIC_QUEUE_URL: 'http://127.0.0.1:9/000000000000/elsewhere',
    TRAFFIC_DLQ_URL: 'http://127.0.0.1:9/000000000000/elsewhere-dlq',
  };
  const run = (recipe: string) => makeHere(['LOCAL=1', recipe], env);

  const created = await run('create-traffic-type-in');
  t.is(created.code, 0, created.stderr);
  const visitId = JSON.parse(JSON.parse(created.stdout).body).visit_id;
  const visits = (await drainQueue(client, sqs.queueUrl)).map((m) => JSON.parse(m.Body!));
  t.deepEqual(
    visits.map((v) => [v.visit_id, v.type, v.ip]),
    [[visitId, 'type-in', '127.0.0.1']],
    'the visit is on the PIPELINE of the endpoint on EMBEDDED_SQS_PORT',
  );

  await deadLetter(client, sqs.dlqUrl);
  const queues = await run('queues');
  t.is(queues.code, 0, queues.stderr);
  t.regex(queues.stdout, /^dev-traffic-queue-dlq +1 +0 /m);
  t.regex(queues.stdout, /^dev-traffic-queue +0 +0 /m);

  const peek = await run('dlq');
  t.is(peek.code, 0, peek.stderr);
  const shown = peek.stdout
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => JSON.parse(line));
  t.deepEqual(
    shown.map((m) => [m.error_code, m.error_message, m.Body]),
    [['unknown_type', 'type is not a known visit type', DEAD_LETTER]],
  );
  t.deepEqual(await queueDepth(client, sqs.dlqUrl), { visible: 1, invisible: 0 }, 'the peek handed the message back at once');

  const started = Date.now();
  const redrive = await run('redrive');
  t.is(redrive.code, 0, redrive.stderr);
  t.regex(redrive.stdout, /^moved 1 message\(s\) from http:\/\/127\.0\.0\.1:\d+\/000000000000\/dev-traffic-queue-dlq to /);
  t.true(Date.now() - started < 20_000, 'nothing left in flight to wait for');
  t.deepEqual(
    (await drainQueue(client, sqs.queueUrl)).map((m) => m.Body),
    [DEAD_LETTER],
    'back on the PIPELINE, body unchanged',
  );
  t.deepEqual(await queueDepth(client, sqs.dlqUrl), { visible: 0, invisible: 0 });
});

test('make redrive and LOCAL=1 redrive with nothing listening: one line saying what to start, no stack', async (t) => {
  const port = String(await freePort());
  const bin = mkdtempSync(join(tmpdir(), 'traffic-docker-'));
  dirs.push(bin);
  writeFileSync(join(bin, 'docker'), FAKE_DOCKER);
  chmodSync(join(bin, 'docker'), 0o755);
  const docker = await makeHere(['redrive'], {
    ...process.env,
    PATH: `${bin}:${process.env.PATH}`,
    CALLS: join(bin, 'calls'),
    ...withCompose,
    LOCALSTACK_PORT: port,
  });
  t.not(docker.code, 0);
  t.deepEqual(ownLines(docker.stderr), [
    `redrive: no SQS endpoint answers at http://127.0.0.1:${port}: start it (LocalStack: make up), or point AWS_ENDPOINT_URL at one that runs`,
  ]);
  const local = await makeHere(['LOCAL=1', 'redrive'], { ...process.env, EMBEDDED_SQS_PORT: port });
  t.not(local.code, 0);
  t.deepEqual(ownLines(local.stderr), [
    `redrive: no SQS endpoint answers at http://127.0.0.1:${port}: run \`npm start\` first (it serves the embedded queue there), or set AWS_ENDPOINT_URL / TRAFFIC_QUEUE_URL`,
  ]);
});

test("with Docker, queues, dlq and redrive run here against LocalStack's published port (LOCALSTACK_PORT)", async (t) => {
  // fauxqs on a port of our own stands in for LocalStack's; docker answers only the preflight.
  const { port, sqs, client } = await embeddedEndpoint(t);
  const bin = mkdtempSync(join(tmpdir(), 'traffic-docker-'));
  dirs.push(bin);
  writeFileSync(join(bin, 'docker'), FAKE_DOCKER);
  chmodSync(join(bin, 'docker'), 0o755);
  const calls = join(bin, 'calls');
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, CALLS: calls, ...withCompose, LOCALSTACK_PORT: String(port), EMBEDDED_SQS_PORT: '9' };

  await deadLetter(client, sqs.dlqUrl);
  const peek = await makeHere(['dlq'], env);
  t.is(peek.code, 0, peek.stderr);
  t.regex(peek.stdout, /"error_code":"unknown_type"/);
  const redrive = await makeHere(['redrive'], env);
  t.is(redrive.code, 0, redrive.stderr);
  t.regex(redrive.stdout, new RegExp(`^moved 1 message\\(s\\) from http://127\\.0\\.0\\.1:${port}/`));
  t.deepEqual(
    (await drainQueue(client, sqs.queueUrl)).map((m) => m.Body),
    [DEAD_LETTER],
  );
  t.deepEqual(readFileSync(calls, 'utf8').trim().split('\n').filter(notVersionCheck), [], 'no container for the queue tools');
});

test('stop removes the containers; logs follows them', (t) => {
  const dir = fresh(true);
  t.deepEqual(make(dir, ['stop'], withCompose).calls.filter(notVersionCheck), ['docker compose --profile processor --profile tools down --remove-orphans']);
  t.deepEqual(make(dir, ['logs'], withCompose).calls.filter(notVersionCheck), ['docker compose --profile processor logs -f']);
});

test('make LOCAL=1 stop stops exactly the processor make LOCAL=1 start-traffic-processor started, and nothing else', async (t) => {
  const pidDir = mkdtempSync(join(tmpdir(), 'traffic-pid-'));
  dirs.push(pidDir);
  const pidFile = join(pidDir, 'processor.pid');
  const port = await freePort();
  const env = { ...process.env, EMBEDDED_SQS_PORT: String(port), AGENT_PORT: '0', LOG_JSON: '1', RECEIVE_WAIT_SECONDS: '1', PROCESSOR_PID_FILE: pidFile };
  // Another process whose command line the old pattern ('node src/processor/main.ts') matched.
  const bystander = spawn('bash', ['-c', 'exec -a "node src/processor/main.ts --bystander" sleep 300'], { stdio: 'ignore' });
  t.teardown(() => bystander.kill('SIGKILL'));
  // Its own process group, so the teardown also reaches the processor make exec'd.
  const started = spawn('make', ['-s', 'LOCAL=1', 'start-traffic-processor'], { env, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  t.teardown(() => {
    try {
      process.kill(-started.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  const exited = new Promise<number | null | 'still running'>((resolve) => {
    started.on('exit', (code) => resolve(code));
    // Bounded: a stop that signals nothing must fail here, not hang the suite.
    setTimeout(() => resolve('still running'), 90_000).unref();
  });
  const messages: string[] = [];
  createInterface({ input: started.stdout! }).on('line', (line) => {
    try {
      messages.push(JSON.parse(line).msg);
    } catch {
      messages.push(line);
    }
  });
  await waitFor(() => messages.includes('processor starting'), 60_000, 'the processor to start');
  const pid = Number(readFileSync(pidFile, 'utf8'));
  t.true(pid > 0);
  t.is(
    spawnSync('ps', ['-p', String(pid), '-o', 'args='], { encoding: 'utf8' }).stdout.trim(),
    `node_modules/.bin/node ${PROCESSOR_NODE_FLAGS.join(' ')} src/processor/main.ts`,
  );

  const second = spawnSync('make', ['-s', 'LOCAL=1', 'start-traffic-processor'], { env, encoding: 'utf8', timeout: 30_000 });
  t.not(second.status, 0, 'a second start is refused while the first runs');
  t.regex(second.stderr, new RegExp(`already running \\(pid ${pid}\\): make LOCAL=1 stop`));

  const stop = spawnSync('make', ['-s', 'LOCAL=1', 'stop'], { env, encoding: 'utf8', timeout: 90_000 });
  t.is(stop.status, 0, stop.stderr);
  t.regex(stop.stdout, new RegExp(`the processor \\(pid ${pid}\\) stopped`));
  t.is(await exited, 0, 'the processor drained and exited 0');
  t.true(messages.includes('processor stopped'));
  t.false(existsSync(pidFile), 'pid file removed');
  t.is(bystander.exitCode, null, 'the other process still runs');
  t.notThrows(() => process.kill(bystander.pid!, 0));

  const nothing = spawnSync('make', ['-s', 'LOCAL=1', 'stop'], { env, encoding: 'utf8', timeout: 30_000 });
  t.is(nothing.status, 0);
  t.regex(nothing.stdout, /no processor started by make/);
});

/** An AWS CLI v2 on this machine (Debian's awscli, for one), or undefined. */
const awsCliV2 = ['aws', '/usr/bin/aws', '/usr/local/bin/aws'].find((command) =>
  /^aws-cli\/2\./.test(spawnSync(command, ['--version'], { encoding: 'utf8' }).stdout ?? ''),
);

/**
 * `handler` served on a free loopback port for the test, and an installed checkout whose `docker`
 * passes the engine check, answers `cases` (lines of a shell case), and runs
 * `docker compose run --rm -T aws-cli ARGS` as the real AWS CLI v2 against that server; with the
 * environment make runs in there (test credentials).
 */
async function awsCliCheckout(t: ExecutionContext, handler: Parameters<typeof createServer>[1], cases = '') {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const dir = fresh(true);
  writeFileSync(
    join(dir, 'fake-bin/docker'),
    `#!/bin/sh\ncase "$*" in\n  "compose version --short") echo 2.29.1; exit 0;;\n  "info --format {{.ServerVersion}}") echo 28.2.2; exit 0;;\n${cases}  "compose run --rm -T aws-cli "*) shift 5; exec "${awsCliV2}" --endpoint-url "${endpoint}" "$@";;\nesac\nexit 99\n`,
  );
  const env = {
    PATH: `${join(dir, 'fake-bin')}:${process.env.PATH}`,
    HOME: dir,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_DEFAULT_REGION: 'us-east-1',
  };
  return { dir, env };
}

// Runs where an AWS CLI v2 is installed (`apt-get install awscli`); skipped, and shown as skipped, elsewhere.
(awsCliV2 ? test : test.skip)('create-traffic-* with the real AWS CLI v2: FunctionError from a Lambda endpoint fails the recipe with the error', async (t) => {
  let failWith: string | undefined;
  const { dir, env } = await awsCliCheckout(t, (request, response) => {
    request.resume();
    request.on('end', () => {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (failWith) headers['x-amz-function-error'] = 'Unhandled';
      response.writeHead(200, headers).end(failWith ?? accepted);
    });
  });
  const run = (recipe: string) => outcomeOf(spawn('make', ['--no-print-directory', recipe], { cwd: dir, env }));
  const ok = await run('create-traffic-type-in');
  t.is(ok.code, 0, ok.stderr);
  t.is(ok.stdout.trim(), accepted);
  failWith = JSON.stringify({ errorType: 'QueueError', errorMessage: 'the queue refused the visit' });
  const failed = await run('create-traffic-referrer');
  t.not(failed.code, 0);
  t.regex(failed.stderr, /dev-traffic-agent failed \(Unhandled\): .*the queue refused the visit/);
});

(awsCliV2 ? test : test.skip)(
  "agent-url with the real AWS CLI v2: the curl line's origin is the first of the deployed agent's AGENT_ALLOWED_ORIGINS",
  async (t) => {
    const paths: string[] = [];
    const { dir, env } = await awsCliCheckout(
      t,
      (request, response) => {
        paths.push(`${request.method} ${request.url}`);
        request.resume();
        const configuration = {
          FunctionName: 'dev-traffic-agent',
          Environment: { Variables: { AGENT_ALLOWED_ORIGINS: 'https://www.example.org,https://shop.example.org' } },
        };
        request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(configuration)));
      },
      `  "compose run --rm -T terraform output -raw agent_url") printf '%s' '${LOCALSTACK_AGENT_URL}'; exit 0;;\n`,
    );
    const run = await outcomeOf(spawn('make', ['-s', 'agent-url'], { cwd: dir, env }));
    t.is(run.code, 0, run.stderr);
    t.deepEqual(paths, ['GET /2015-03-31/functions/dev-traffic-agent/configuration']);
    t.regex(run.stdout, /^try it: curl --connect-to ::127\.0\.0\.1:4566 -X POST -H 'Origin: https:\/\/www\.example\.org' -H 'content-type: text\/plain' /m);
  },
);
