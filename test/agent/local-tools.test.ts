/**
 * The local tools without Docker: `npm run agent:invoke` and `npm run traffic` find the
 * PIPELINE on the embedded endpoint by name, and say to run `npm start` when nothing answers.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import test from 'ava';
import { startFauxqs } from 'fauxqs';
import { LocalTargetError, resolveLocalTarget, targetEnv } from '../../scripts/local/target.ts';
import { PIPELINE_DLQ_NAME, PIPELINE_QUEUE_NAME } from '../../src/queues.ts';
import { closedPort, startTestQueue, type TestQueue } from './support/sqs.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const INVOKE = 'scripts/local/invoke.ts';
const TRAFFIC = 'scripts/traffic/cli.ts';

/** The environment of a fresh shell: nothing about queues or endpoints. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['TRAFFIC_QUEUE_URL', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_SQS', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'LOG_LEVEL'])
    delete env[name];
  return { ...env, ...extra };
}

async function runTool(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [script, ...args], { cwd: ROOT, env, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

let pipeline: TestQueue;
test.before(async () => {
  // The names `npm start` creates, on a port of our own.
  pipeline = await startTestQueue({ queue: PIPELINE_QUEUE_NAME, dlq: PIPELINE_DLQ_NAME });
});
test.after.always(async () => {
  await pipeline?.stop();
});

test('the target is dev-traffic-queue looked up on AWS_ENDPOINT_URL', async (t) => {
  const config = await resolveLocalTarget({ AWS_ENDPOINT_URL: pipeline.endpoint });
  t.is(config.queueUrl, pipeline.queueUrl);
  t.is(config.endpoint, pipeline.endpoint);
  t.true(config.localCredentials);
  t.deepEqual(targetEnv(config), { TRAFFIC_QUEUE_URL: pipeline.queueUrl, AWS_ENDPOINT_URL_SQS: pipeline.endpoint });
});

test('with nothing configured the embedded endpoint 127.0.0.1:4566 is the target', async (t) => {
  // Whether or not `npm start` runs on this machine now, 127.0.0.1:4566 is where the lookup goes.
  try {
    const config = await resolveLocalTarget({});
    t.is(config.endpoint, 'http://127.0.0.1:4566');
  } catch (error) {
    t.true(error instanceof LocalTargetError);
    t.regex((error as Error).message, /http:\/\/127\.0\.0\.1:4566/);
  }
});

test('nothing listening: one line saying to run npm start first', async (t) => {
  const endpoint = `http://127.0.0.1:${await closedPort()}`;
  const error = await t.throwsAsync(resolveLocalTarget({ AWS_ENDPOINT_URL: endpoint }), { instanceOf: LocalTargetError });
  t.is(
    error?.message,
    `no SQS endpoint answers at ${endpoint}: run \`npm start\` first (it serves the embedded queue there), or set AWS_ENDPOINT_URL / TRAFFIC_QUEUE_URL`,
  );
});

test('an endpoint without the PIPELINE queue is named as such', async (t) => {
  const bare = await startFauxqs({ port: 0, logger: false });
  t.teardown(() => bare.stop());
  const error = await t.throwsAsync(resolveLocalTarget({ AWS_ENDPOINT_URL: `http://127.0.0.1:${bare.port}` }), { instanceOf: LocalTargetError });
  t.regex(error!.message, /has no queue named dev-traffic-queue/);
});

test('TRAFFIC_QUEUE_URL is used as given, without a lookup', async (t) => {
  const endpoint = `http://127.0.0.1:${await closedPort()}`;
  const config = await resolveLocalTarget({ TRAFFIC_QUEUE_URL: `${endpoint}/000000000000/mine`, AWS_ENDPOINT_URL: endpoint });
  t.is(config.queueUrl, `${endpoint}/000000000000/mine`);
  await t.throwsAsync(resolveLocalTarget({ TRAFFIC_QUEUE_URL: 'not a url' }), {
    instanceOf: LocalTargetError,
    message: /TRAFFIC_QUEUE_URL="not a url" is invalid/,
  });
});

test.serial('agent:invoke prints the handler response and the visit is on the queue', async (t) => {
  const result = await runTool(INVOKE, ['{"queryStringParameters":{"type":"referrer","url":"test.com"}}'], cleanEnv({ AWS_ENDPOINT_URL: pipeline.endpoint }));
  t.is(result.code, 0, result.stderr);
  const response = JSON.parse(result.stdout);
  t.is(response.statusCode, 202);
  const visitId = JSON.parse(response.body).visit_id;
  const messages = await pipeline.receiveAll();
  t.deepEqual(
    messages.map((m) => JSON.parse(m.Body!).visit_id),
    [visitId],
  );
});

test.serial('agent:invoke: a rejected visit prints the 400 and exits 1; bad usage exits 2, --help 0; no endpoint says npm start', async (t) => {
  const env = cleanEnv({ AWS_ENDPOINT_URL: pipeline.endpoint, LOG_LEVEL: 'silent' });
  const rejected = await runTool(INVOKE, ['{"queryStringParameters":{"type":"referrer","url":"javascript:alert(1)"}}'], env);
  t.is(rejected.code, 1);
  t.is(JSON.parse(rejected.stdout).statusCode, 400);
  const notJson = await runTool(INVOKE, ['{type:referrer}'], env);
  t.is(notJson.code, 2);
  t.regex(notJson.stderr, /^agent:invoke: the event is not valid JSON/);
  const noEvent = await runTool(INVOKE, [], env);
  t.is(noEvent.code, 2);
  t.regex(noEvent.stderr, /^agent:invoke: expected one event argument\nusage: npm run agent:invoke/);
  const help = await runTool(INVOKE, ['--help'], env);
  t.is(help.code, 0);
  t.regex(help.stdout, /^usage: npm run agent:invoke -- '<event json>'/);
  const down = await runTool(
    INVOKE,
    ['{"queryStringParameters":{"type":"referrer","url":"test.com"}}'],
    cleanEnv({ AWS_ENDPOINT_URL: `http://127.0.0.1:${await closedPort()}` }),
  );
  t.is(down.code, 1);
  t.is(down.stdout, '');
  t.regex(down.stderr, /^agent:invoke: no SQS endpoint answers at http:\/\/127\.0\.0\.1:\d+: run `npm start` first/);
  t.is(down.stderr.trim().split('\n').length, 1, 'one line');
  t.deepEqual(await pipeline.receiveAll(), [], 'nothing enqueued');
});

test.serial('traffic sends the mix through the handler and reports it; every accepted visit is on the queue', async (t) => {
  const result = await runTool(
    TRAFFIC,
    ['--count', '120', '--rate', '0', '--mix', 'type-in=2,direct=1,referrer=3,invalid=2', '--seed', '7', '--json'],
    cleanEnv({ AWS_ENDPOINT_URL: pipeline.endpoint }),
  );
  t.is(result.code, 0, result.stderr);
  t.is(result.stderr, '', 'no progress bar when stderr is not a terminal, no log noise');
  const summary = JSON.parse(result.stdout);
  t.is(summary.sent, 120);
  t.is(summary.accepted + summary.rejected, 120);
  t.is(summary.failed, 0);
  t.is(summary.unexpected, 0);
  t.true(summary.rejected > 10 && summary.rejected < 60, `about a quarter invalid (${summary.rejected})`);
  t.true(summary.perSecond > 0);
  const messages = await pipeline.receiveAll();
  t.is(messages.length, summary.accepted, 'exactly the accepted visits reached the queue');
});

test.serial('traffic: a bad option is one line plus the usage, exit 2', async (t) => {
  const result = await runTool(TRAFFIC, ['--mix', 'type-in=1,spam=2'], cleanEnv());
  t.is(result.code, 2);
  t.regex(result.stderr, /^traffic: --mix: mix name "spam" is not one of type-in, referrer, direct, invalid\nusage: npm run traffic/);
});
