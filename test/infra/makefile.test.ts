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
import test from 'ava';
import { PROCESSOR_NODE_FLAGS } from '../support/node-flags.ts';
import { outcomeOf } from '../support/run-script.ts';
import { freePort, waitFor } from '../support/sqs.ts';

const ROOT = resolve('.');

/**
 * `docker` and `npm` stand-ins: each call is appended to $CALLS as one line. `docker compose
 * version --short` prints $FAKE_COMPOSE_VERSION (or fails as docker does without the plugin);
 * `aws lambda invoke` writes $FAKE_LAMBDA_PAYLOAD to its outfile and prints $FAKE_FUNCTION_ERROR
 * (as `--query FunctionError --output text` does: None when the function did not fail); a call
 * containing $FAKE_FAIL exits with $FAKE_FAIL_CODE; `npm ci` creates node_modules.
 */
const FAKE_DOCKER = `#!/bin/sh
echo "docker $*" >> "$CALLS"
case "$*" in
  "compose version --short")
    if [ -z "$FAKE_COMPOSE_VERSION" ]; then echo "docker: unknown command: docker compose" >&2; exit 1; fi
    echo "$FAKE_COMPOSE_VERSION"; exit 0;;
esac
if [ -n "$FAKE_FAIL" ]; then case "$*" in *"$FAKE_FAIL"*) echo "fake docker: failing: $*" >&2; exit "$FAKE_FAIL_CODE";; esac; fi
case "$*" in
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
const notVersionCheck = (call: string) => call !== 'docker compose version --short';

const dirs: string[] = [];
const fresh = (installed: boolean) => {
  const dir = checkout({ installed });
  dirs.push(dir);
  return dir;
};
test.after.always(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

test('without Docker Compose v2, a Docker recipe fails with one line naming make LOCAL=1, before running anything', (t) => {
  const dir = fresh(true);
  for (const recipe of ['all', 'up', 'apply', 'create-traffic-type-in', 'start-traffic-processor', 'stop', 'queues']) {
    const run = make(dir, [recipe]);
    t.not(run.status, 0, recipe);
    const ours = run.stderr.split('\n').filter((line) => line && !line.startsWith('make: ***') && !line.startsWith('make[1]: ***'));
    t.is(ours.length, 1, `${recipe}: ${run.stderr}`);
    t.regex(ours[0], new RegExp(`Docker Compose v2 .* is not available: .*make LOCAL=1 ${recipe}$`), recipe);
    t.deepEqual(run.calls.filter(notVersionCheck), [], `${recipe} ran nothing else`);
  }
  const old = make(dir, ['up'], { FAKE_COMPOSE_VERSION: 'v2.3.0' });
  t.not(old.status, 0);
  t.regex(old.stderr, /Docker Compose 2\.3\.0 is older than 2\.\d+\.\d+: upgrade it, or run without Docker: make LOCAL=1 up/);
});

test('make restarts the environment: down with volumes, old Terraform state removed, LocalStack up, agent built, init, apply', (t) => {
  const dir = fresh(true);
  const state = join(dir, 'terraform/environments/dev/terraform.tfstate');
  writeFileSync(state, '{}');
  writeFileSync(`${state}.backup`, '{}');
  const run = make(dir, [], withCompose);
  t.is(run.status, 0, run.stderr);
  t.deepEqual(run.calls.filter(notVersionCheck), [
    'docker compose --profile processor --profile tools down --volumes --remove-orphans',
    'docker compose up -d --wait localstack',
    'npm run -s build:agent',
    'docker compose run --rm terraform init -input=false',
    'docker compose run --rm terraform apply -input=false -auto-approve',
  ]);
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

test('deploy-traffic-agent-lambda builds the zip and applies only the agent module', (t) => {
  const run = make(fresh(true), ['deploy-traffic-agent-lambda'], withCompose);
  t.is(run.status, 0, run.stderr);
  t.deepEqual(run.calls.filter(notVersionCheck), [
    'npm run -s build:agent',
    'docker compose run --rm terraform init -input=false',
    'docker compose run --rm terraform apply -input=false -auto-approve -target=module.traffic.module.traffic_agent',
  ]);
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
    [['LOCAL=1', 'create-traffic-type-in'], 'npm run -s agent:invoke -- {"queryStringParameters":{"type":"type-in","ip":"127.0.0.1"}}'],
    [['LOCAL=1', 'create-traffic-referrer'], 'npm run -s agent:invoke -- {"queryStringParameters":{"type":"referrer","url":"test.com"}}'],
    [['LOCAL=1', 'deploy-traffic-agent-lambda'], 'npm run -s build:agent'],
    [['LOCAL=1', 'redrive'], 'npm run -s redrive'],
    [['LOCAL=1'], ''],
  ];
  for (const [args, command] of cases) {
    const dir = fresh(false);
    const run = make(dir, args, withCompose);
    const npm = run.calls.filter((call) => call.startsWith('npm '));
    t.is(run.status, 0, `${args.join(' ')}: ${run.stderr}`);
    t.is(npm[0], 'npm ci --no-audit --no-fund', `${args.join(' ')} installs first`);
    if (command) t.is(npm[1], command, args.join(' '));
    // Installed once: the second run does not reinstall.
    const again = make(dir, args, withCompose);
    t.false(again.calls.includes('npm ci --no-audit --no-fund'), `${args.join(' ')} does not reinstall`);
  }
  const failedInstall = make(fresh(false), ['LOCAL=1', 'create-traffic-type-in'], { FAKE_FAIL: 'ci' });
  t.not(failedInstall.status, 0);
  t.false(
    failedInstall.calls.some((call) => call.includes('agent:invoke')),
    'nothing runs on a failed install',
  );
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
// Runs where an AWS CLI v2 is installed (`apt-get install awscli`); skipped, and shown as skipped, elsewhere.
(awsCliV2 ? test : test.skip)('create-traffic-* with the real AWS CLI v2: FunctionError from a Lambda endpoint fails the recipe with the error', async (t) => {
  let failWith: string | undefined;
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (failWith) headers['x-amz-function-error'] = 'Unhandled';
      response.writeHead(200, headers).end(failWith ?? accepted);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const dir = fresh(true);
  // `docker compose run --rm -T aws-cli ARGS` becomes the real CLI against the endpoint above.
  writeFileSync(
    join(dir, 'fake-bin/docker'),
    `#!/bin/sh\ncase "$*" in\n  "compose version --short") echo 2.29.1; exit 0;;\n  "compose run --rm -T aws-cli "*) shift 5; exec "${awsCliV2}" --endpoint-url "${endpoint}" "$@";;\nesac\nexit 99\n`,
  );
  const env = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DEFAULT_REGION: 'us-east-1' };
  const run = (recipe: string) =>
    outcomeOf(
      spawn('make', ['--no-print-directory', recipe], {
        cwd: dir,
        env: { PATH: `${join(dir, 'fake-bin')}:${process.env.PATH}`, HOME: dir, ...env },
      }),
    );
  const ok = await run('create-traffic-type-in');
  t.is(ok.code, 0, ok.stderr);
  t.is(ok.stdout.trim(), accepted);
  failWith = JSON.stringify({ errorType: 'QueueError', errorMessage: 'the queue refused the visit' });
  const failed = await run('create-traffic-referrer');
  t.not(failed.code, 0);
  t.regex(failed.stderr, /dev-traffic-agent failed \(Unhandled\): .*the queue refused the visit/);
});
