/**
 * `npm run smoke` against `npm start`'s embedded default, as an operator runs it after a first
 * deploy: every visit is reported as it ended, and the command fails when a visit is not written.
 */
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { npmStart, type RunningStart } from '../browser/support.ts';
import { runScript } from '../support/run-script.ts';

let start: RunningStart;
let dir: string;
let logFile: string;
let args: string[];
let env: Record<string, string>;
let endpoint: string;

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'traffic-smoke-'));
  logFile = join(dir, 'processor.log');
  start = npmStart({});
  // The processor's lines, as `LOG_JSON=1 npm start > processor.log` would keep them.
  const file = createWriteStream(logFile);
  start.child.stdout!.pipe(file);
  const embedded = await start.waitForLine((l) => typeof l.dlqUrl === 'string' && typeof l.endpoint === 'string', 'the embedded endpoint line');
  const agent = await start.waitForLine((l) => typeof l.agentUrl === 'string', 'the agent line');
  await start.waitForLine((l) => l.msg === 'processor starting', 'the processor start');
  args = ['--entry', String(agent.agentUrl), '--queue', String(embedded.queueUrl), '--dlq', String(embedded.dlqUrl)];
  endpoint = String(embedded.endpoint);
  env = { AWS_ENDPOINT_URL: endpoint, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };
});

test.after.always(async () => {
  await start?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test.serial('each visit reported as it ended: two written, one refused at the entry, one dead-lettered with its reason', async (t) => {
  const { code, stdout } = await runScript('scripts/smoke/run.ts', [...args, '--logs', logFile, '--timeout', '30'], env);
  t.is(code, 0, stdout);
  const lines = stdout.trim().split('\n');
  t.regex(lines[0]!, /^ok {3}type-in visit [0-9a-f-]{36}: written to traffic_type_in/);
  t.regex(lines[1]!, /^ok {3}referrer visit [0-9a-f-]{36}: written to traffic_referrer/);
  t.regex(lines[2]!, /^ok {3}invalid visit: refused at the entry: 400 invalid_url/);
  t.regex(lines[3]!, /^ok {3}invalid message on the PIPELINE smoke-[0-9a-f-]{36}: dead-lettered: invalid_type: type is not a known visit type/);
  t.is(lines[4], 'smoke: every visit ended as it should');
});

test.serial('queues named on the command line are reached where their URLs say, not on the embedded endpoint', async (t) => {
  // As on AWS: no endpoint in the environment, the queue URLs are the whole address. The embedded
  // default's port is closed, so a smoke test that fell back to it could neither send nor look.
  const queue = `${endpoint}/000000000000/dev-traffic-queue`;
  const dlq = `${endpoint}/000000000000/dev-traffic-queue-dlq`;
  const { code, stdout, stderr } = await runScript(
    'scripts/smoke/run.ts',
    ['--entry', args[1]!, '--queue', queue, '--dlq', dlq, '--logs', logFile, '--timeout', '30'],
    { AWS_ENDPOINT_URL: '', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1', EMBEDDED_SQS_PORT: '9' },
  );
  t.is(code, 0, stdout + stderr);
  t.regex(stdout, /^ok {3}invalid message on the PIPELINE smoke-[0-9a-f-]{36}: dead-lettered: invalid_type/m);
});

test.serial('a visit that is never seen written fails the smoke test', async (t) => {
  // The processor writes, but not where the smoke test looks: as if the write never happened.
  const elsewhere = join(dir, 'elsewhere.log');
  writeFileSync(elsewhere, '');
  const { code, stdout } = await runScript('scripts/smoke/run.ts', [...args, '--logs', elsewhere, '--timeout', '3'], env);
  t.is(code, 1);
  t.regex(stdout, /^FAIL type-in visit [0-9a-f-]{36}: neither written nor dead-lettered within 3 s \(expected: written\)$/m);
  t.regex(stdout, /^ok {3}invalid message on the PIPELINE .*dead-lettered/m);
  t.regex(stdout, /smoke: 2 of 4 did not end as they should/);
});

test.serial('a bad endpoint, a timeout of 0 or two sources of writes: one line and the usage, exit 2', async (t) => {
  const endpoint = await runScript('scripts/smoke/run.ts', ['--logs', logFile], { AWS_ENDPOINT_URL: 'localhost:4566' });
  t.is(endpoint.code, 2);
  t.regex(endpoint.stderr, /^smoke: AWS_ENDPOINT_URL="localhost:4566" is invalid.*\nusage: npm run smoke/);
  const timeout = await runScript('scripts/smoke/run.ts', [...args, '--logs', logFile, '--timeout', '0'], env);
  t.is(timeout.code, 2);
  t.regex(timeout.stderr, /^smoke: --timeout must be a whole number from 1 to 3600, not "0"/);
  const both = await runScript('scripts/smoke/run.ts', [...args, '--logs', logFile, '--log-group', 'g'], env);
  t.is(both.code, 2);
  t.regex(both.stderr, /^smoke: give one of --logs and --log-group/);
});
