/**
 * The production install, as the image builds it: the files git tracks (or would) copied to a temporary
 * folder, `npm ci --omit=dev` there (no fauxqs, no inspector relay, no pino-pretty), and the
 * processor started from it against an SQS endpoint served by another process (this one).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import test from 'ava';
import { PROCESSOR_NODE_FLAGS } from '../support/node-flags.ts';
import { findOldNode } from '../support/old-node.ts';
import { endpointEnv, envWithoutPipelineSettings, watchExit } from '../support/processor-child.ts';
import { freePort, queueDepth, startTestEndpoint, waitFor } from '../support/sqs.ts';

const MAIN = 'src/processor/main.ts';

/** This environment without npm's own variables and without any queue or endpoint settings. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...envWithoutPipelineSettings(/^npm_/i), ...extra };
}

let dir = '';

test.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'traffic-prod-'));
  const tracked = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const file of tracked) {
    if (!existsSync(file)) continue; // deleted in the work tree, not yet committed
    mkdirSync(join(dir, dirname(file)), { recursive: true });
    cpSync(file, join(dir, file));
  }
  execFileSync('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: dir,
    env: cleanEnv(),
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 110_000,
  });
});

test.after.always(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the production install leaves out the development packages', (t) => {
  for (const pkg of ['fauxqs', 'pino-pretty', '@statelyai/inspect', 'node', 'ava', 'typescript']) {
    t.false(existsSync(join(dir, 'node_modules', pkg)), `${pkg} is not installed`);
  }
  t.true(existsSync(join(dir, 'node_modules/@aws-sdk/client-sqs')));
});

test('started from the production install, the processor drains an SQS endpoint in another process and exits 0 on SIGTERM', async (t) => {
  const sqs = await startTestEndpoint();
  t.teardown(() => sqs.stop());
  const metricsPort = String(await freePort());
  const child = spawn(process.execPath, [...PROCESSOR_NODE_FLAGS, MAIN], {
    cwd: dir,
    env: cleanEnv({
      ...endpointEnv(sqs),
      RECEIVE_WAIT_SECONDS: '1',
      LOG_JSON: '1',
      METRICS_PORT: metricsPort,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => child.kill('SIGKILL'));
  const { exited, stderr } = watchExit(child);
  const entries: any[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      entries.push(JSON.parse(line));
    } catch {
      entries.push({ msg: line });
    }
  });

  await Promise.race([
    waitFor(() => entries.some((e) => e.msg === 'processor starting'), 60_000, 'the processor to start'),
    exited.then((code) => Promise.reject(new Error(`the processor exited with ${code}: ${stderr()}`))),
  ]);
  const visitId = 'prod-install-visit-1';
  await sqs.client.send(
    new SendMessageCommand({
      QueueUrl: sqs.queueUrl,
      MessageBody: JSON.stringify({ type: 'referrer', created_at: Date.now(), url: 'test.com', visit_id: visitId }),
    }),
  );
  await waitFor(() => entries.some((e) => e.msg === 'write'), 60_000, 'the visit to be written');
  const write = entries.find((e) => e.msg === 'write');
  t.is(write.table, 'traffic_referrer');
  t.deepEqual(
    write.rows.map((r: any) => r.visit_id),
    [visitId],
  );
  await waitFor(
    async () => {
      const depth = await queueDepth(sqs.client, sqs.queueUrl);
      return depth.visible === 0 && depth.invisible === 0;
    },
    60_000,
    'the message to be deleted',
  );

  // The image's HEALTHCHECK, run from the same install.
  const health = spawnSync(process.execPath, ['src/processor/runtime/healthcheck.ts'], {
    cwd: dir,
    env: cleanEnv({ METRICS_PORT: metricsPort }),
    encoding: 'utf8',
  });
  t.is(health.status, 0, health.stderr);

  child.kill('SIGTERM');
  t.is(await exited, 0, stderr());
  t.true(entries.some((e) => e.msg === 'processor stopped'));
});

test('without TRAFFIC_QUEUE_URL, the production install says in one line to set it', (t) => {
  const result = spawnSync(process.execPath, [...PROCESSOR_NODE_FLAGS, MAIN], { cwd: dir, env: cleanEnv(), encoding: 'utf8', timeout: 60_000 });
  t.is(result.status, 2, result.stderr);
  const lines = result.stderr.trim().split('\n');
  t.is(lines.length, 1, result.stderr);
  t.regex(lines[0], /set TRAFFIC_QUEUE_URL/);
  t.notRegex(result.stderr, /ERR_MODULE_NOT_FOUND|at async/);
});

test('--inspect without the inspector relay installed stops with one line naming the package', (t) => {
  const result = spawnSync(process.execPath, [...PROCESSOR_NODE_FLAGS, MAIN, '--inspect'], {
    cwd: dir,
    env: cleanEnv({ TRAFFIC_QUEUE_URL: 'http://127.0.0.1:9/000000000000/q', AWS_ENDPOINT_URL: 'http://127.0.0.1:9', LOG_JSON: '1' }),
    encoding: 'utf8',
    timeout: 60_000,
  });
  t.is(result.status, 2, result.stderr);
  const lines = result.stderr.trim().split('\n');
  t.is(lines.length, 1, result.stderr);
  t.regex(lines[0], /--inspect needs the development package @statelyai\/inspect.*npm ci/);
});

test('on a terminal without pino-pretty the logger falls back to JSON lines', (t) => {
  const script = [
    "Object.defineProperty(process.stdout, 'isTTY', { value: true });",
    "const { createLogger } = await import('./src/platform/logger.ts');",
    "createLogger({ name: 'traffic-processor', level: 'info' }).info({ probe: 1 }, 'hello');",
  ].join('\n');
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, env: cleanEnv(), encoding: 'utf8', timeout: 60_000 });
  t.is(result.status, 0, result.stderr);
  const line = JSON.parse(result.stdout.trim().split('\n')[0]);
  t.is(line.msg, 'hello');
  t.is(line.probe, 1);
});

const oldNode = findOldNode();
const withOldNode = oldNode ? test : test.skip;

withOldNode(
  `npm start on the machine's Node ${oldNode?.version ?? '(none older than 24 found)'} says in one line to install Node 24, and exits non-zero`,
  (t) => {
    // A production install has no project Node: npm runs the scripts with the machine's.
    for (const script of [['start'], ['run', 'redrive']]) {
      const result = spawnSync('npm', script, { cwd: dir, env: cleanEnv({ PATH: oldNode!.pathEnv }), encoding: 'utf8', timeout: 60_000 });
      t.not(result.status, 0, `npm ${script.join(' ')}`);
      const lines = result.stderr.split('\n').filter(Boolean);
      t.is(lines.length, 1, result.stderr);
      t.regex(lines[0], new RegExp(`^traffic: Node\\.js 24 or newer is needed, this is v${oldNode!.version.replaceAll('.', '\\.')}; .*install Node\\.js 24`));
      t.notRegex(result.stdout + result.stderr, /ERR_UNKNOWN_FILE_EXTENSION/);
    }
  },
);
