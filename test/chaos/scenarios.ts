/**
 * The fault scenarios. Each runs real processor processes (worker.ts) against a real fauxqs
 * endpoint and keeps a ledger: visit ids sent, written (from the workers' ledger files),
 * dead-lettered (read back from the DLQ) and lost. `rewrites` counts visit ids written more than
 * once: a redelivery the upsert by visit_id absorbs (one row), expected only where a process dies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import fc from 'fast-check';
import { startFauxqs } from 'fauxqs';
import { CreateQueueCommand, DeleteQueueCommand, type SQSClient, type Message } from '@aws-sdk/client-sqs';
import { parseVisitBody } from '../../src/contract/visit.ts';
import { createPipelineQueues } from '../../src/processor/sqs/embedded.ts';
import { localSqsClient } from '../../src/platform/sqs.ts';
import { makeBurst, sendBurst, type BurstMessage } from '../../scripts/support/burst.ts';
import { seededRandom } from '../../scripts/support/random.ts';
import { PROCESSOR_NODE_FLAGS } from '../support/node-flags.ts';
import { drainQueue, queueDepth, waitFor } from '../support/sqs.ts';
import { ANSWER_SCENARIOS } from './answer-scenarios.ts';
import { LIVENESS_SCENARIOS } from './liveness-scenarios.ts';
import { OutageProxy } from './proxy.ts';
import type { Tuning } from '../../src/processor/config/tuning.ts';

export interface ScenarioResult {
  readonly scenario: string;
  readonly sent: number;
  readonly written: number;
  readonly rewrites: number;
  readonly deadLettered: number;
  readonly lost: number;
  /** Rewrites are allowed only where a process is killed; elsewhere they mean a lease was lost. */
  readonly rewritesAllowed: boolean;
  readonly notes: string;
  /** A property the scenario checks beyond the ledger (a stop time, a throughput), when it does not hold. */
  readonly failure?: string;
}

export interface Scale {
  readonly count: number;
  readonly outageMs: number;
  readonly badInputs: number;
  /** How long the DLQ is gone in the DLQ outage scenario. */
  readonly dlqOutageMs?: number;
}

const WORKER = new URL('./worker.ts', import.meta.url).pathname;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface Endpoint {
  readonly port: number;
  readonly endpoint: string;
  readonly client: SQSClient;
  readonly queueUrl: string;
  readonly dlqUrl: string;
  readonly dir: string;
  stop(): Promise<void>;
}

type QueuePair = { queueUrl: string; dlqUrl: string };

/** The workers started against each endpoint and still running: stopping the endpoint kills them. */
const runningWorkers = new WeakMap<Endpoint, Set<ChildProcess>>();

/** A fauxqs endpoint with a queue pair: by default the PIPELINE and its DLQ, with a redrive policy. */
export async function endpoint(
  options: { visibilityTimeoutSeconds?: number; maxReceiveCount?: number } = {},
  createQueues: (url: string, client: SQSClient) => Promise<QueuePair> = (url) => createPipelineQueues(url, undefined, options),
): Promise<Endpoint> {
  const server = await startFauxqs({ port: 0, logger: false });
  const url = `http://127.0.0.1:${server.port}`;
  const client = localSqsClient(url);
  const { queueUrl, dlqUrl } = await createQueues(url, client);
  const workers = new Set<ChildProcess>();
  const ep: Endpoint = {
    port: server.port,
    endpoint: url,
    client,
    queueUrl,
    dlqUrl,
    dir: mkdtempSync(join(tmpdir(), 'traffic-chaos-')),
    stop: async () => {
      // A scenario that failed half-way left its workers running; they would keep the suite from exiting.
      await Promise.all([...workers].map((child) => new Promise((resolve) => child.once('exit', resolve).kill('SIGKILL'))));
      client.destroy();
      await server.stop();
    },
  };
  runningWorkers.set(ep, workers);
  return ep;
}

export interface Worker {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  /** The worker's stdout lines after the first (ready). */
  readonly lines: AsyncIterator<string>;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Values in place of the processor's tuning constants, for the worker's environment (it hands them to loadConfig). */
export function tuningEnv(tuning: Partial<Tuning>): { CHAOS_TUNING: string } {
  return { CHAOS_TUNING: JSON.stringify(tuning) };
}

export function startWorker(ep: Endpoint, env: Record<string, string>, via = ep.endpoint): Worker {
  const child = spawn(process.execPath, [...PROCESSOR_NODE_FLAGS, WORKER], {
    env: {
      ...process.env,
      AWS_ENDPOINT_URL: via,
      TRAFFIC_QUEUE_URL: ep.queueUrl,
      TRAFFIC_DLQ_URL: ep.dlqUrl,
      CHAOS_LEDGER: join(ep.dir, 'ledger.jsonl'),
      RECEIVE_WAIT_SECONDS: '1',
      POLLERS: '4',
      LOG_LEVEL: process.env.CHAOS_LOG_LEVEL ?? 'silent',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const running = runningWorkers.get(ep);
  running?.add(child);
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      running?.delete(child);
      resolve({ code, signal });
    }),
  );
  return { child, lines, ready: lines.next().then(() => undefined), exit };
}

/** One write the workers made: its visit ids, with the type and time of the write. */
export interface LedgerEntry {
  readonly type?: string;
  readonly at?: number;
  readonly ids: string[];
}

/** The writes in the ledger so far. */
export function ledgerEntries(ep: Endpoint): LedgerEntry[] {
  const file = join(ep.dir, 'ledger.jsonl');
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  // Often read while a worker appends: a last line without its newline is still being written.
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  return complete
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as LedgerEntry);
}

/** How many times each visit id was written. */
export function ledger(ep: Endpoint): Map<string, number> {
  const counts = new Map<string, number>();
  for (const entry of ledgerEntries(ep)) for (const id of entry.ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

export async function drained(ep: Endpoint, timeoutMs: number, extra: () => Promise<boolean> = async () => true): Promise<void> {
  await waitFor(
    async () => {
      const depth = await queueDepth(ep.client, ep.queueUrl);
      return depth.visible + depth.invisible === 0 && (await extra());
    },
    timeoutMs,
    'the PIPELINE to drain',
  );
}

/** `count` valid visits (seeded) sent to the endpoint's PIPELINE. */
export async function preloaded(ep: Endpoint, count: number, seed: number): Promise<BurstMessage[]> {
  const burst = makeBurst(count, 0, seededRandom(seed));
  await sendBurst(ep.client, ep.queueUrl, burst);
  return burst;
}

/** The ledger's verdict once a scenario is over. */
export async function account(
  ep: Endpoint,
  scenario: string,
  burst: readonly BurstMessage[],
  options: { rewritesAllowed: boolean; notes: string },
): Promise<ScenarioResult> {
  const written = ledger(ep);
  const dead = await drainQueue(ep.client, ep.dlqUrl);
  const deadBodies = new Set(dead.map((m) => m.Body));
  const lost = burst.filter((m) => (m.visitId ? !written.has(m.visitId) && !deadBodies.has(m.body) : !deadBodies.has(m.body))).length;
  return result(scenario, burst.length, written, { deadLettered: dead.length, lost, ...options });
}

/** A scenario's figures; `written` counts the writes of each visit id (the ledger). */
export function result(
  scenario: string,
  sent: number,
  written: ReadonlyMap<string, number>,
  rest: Pick<ScenarioResult, 'deadLettered' | 'lost' | 'rewritesAllowed' | 'notes'>,
): ScenarioResult {
  return { scenario, sent, written: written.size, rewrites: [...written.values()].filter((n) => n > 1).length, ...rest };
}

export async function stopAll(workers: readonly Worker[]): Promise<void> {
  for (const w of workers) w.child.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.exit));
}

export async function storageFailsAtRandom(scale: Scale): Promise<ScenarioResult> {
  const ep = await endpoint();
  try {
    const burst = await preloaded(ep, scale.count, 101);
    const worker = startWorker(ep, { CHAOS_FAIL_RATE: '0.3', WRITE_MAX_ATTEMPTS: '20', ...tuningEnv({ retryBaseMs: 20, retryMaxMs: 500 }) });
    await drained(ep, 120_000);
    await stopAll([worker]);
    const result = await account(ep, '1. storage fails 30 % of calls', burst, { rewritesAllowed: false, notes: '' });
    return { ...result, notes: result.deadLettered === 0 ? 'none dead-lettered' : 'some dead-lettered' };
  } finally {
    await ep.stop();
  }
}

export async function outageLongerThanVisibility(scale: Scale): Promise<ScenarioResult> {
  const ep = await endpoint({ visibilityTimeoutSeconds: 3 });
  try {
    const burst = await preloaded(ep, Math.min(scale.count, 2_000), 202);
    const outageMs = Math.max(8_000, scale.outageMs / 3);
    const env = {
      CHAOS_OUTAGE_UNTIL: String(Date.now() + outageMs),
      VISIBILITY_TIMEOUT_SECONDS: '5',
      WRITE_MAX_ATTEMPTS: '100',
      ...tuningEnv({ retryBaseMs: 200, retryMaxMs: 1_000 }),
    };
    // Two workers: a lease that lapsed would hand a message to the other one (a rewrite).
    const workers = [startWorker(ep, env), startWorker(ep, env)];
    await drained(ep, outageMs + 60_000);
    await stopAll(workers);
    return await account(ep, `2. storage down ${Math.round(outageMs / 1000)} s > 3 s visibility`, burst, {
      rewritesAllowed: false,
      notes: 'leases extended; 2 workers',
    });
  } finally {
    await ep.stop();
  }
}

export async function storageRejectsOneType(scale: Scale): Promise<ScenarioResult> {
  const ep = await endpoint({ visibilityTimeoutSeconds: 5, maxReceiveCount: 3 });
  try {
    const burst = makeBurst(Math.min(scale.count, 2_000), 0, seededRandom(303));
    const referrers = burst.filter((m) => m.table === 'traffic_referrer').length;
    await sendBurst(ep.client, ep.queueUrl, burst);
    const worker = startWorker(ep, { CHAOS_FAIL_TYPE: 'referrer', WRITE_MAX_ATTEMPTS: '2', ...tuningEnv({ retryBaseMs: 20, retryMaxMs: 50 }) });
    await drained(ep, 120_000, async () => (await queueDepth(ep.client, ep.dlqUrl)).visible >= referrers);
    await stopAll([worker]);
    const written = ledger(ep);
    const typeInWritten = burst.filter((m) => m.table === 'traffic_type_in' && written.has(m.visitId!)).length;
    return await account(ep, '3. storage rejects referrer', burst, {
      rewritesAllowed: false,
      notes: `${referrers} referrers dead-lettered after 3 receives (the redrive policy's maxReceiveCount caps tuning.deadLetterAfterReceives); ${typeInWritten} type-in written`,
    });
  } finally {
    await ep.stop();
  }
}

export async function endpointDown(scale: Scale): Promise<ScenarioResult> {
  const ep = await endpoint({ visibilityTimeoutSeconds: 5 });
  const proxy = await OutageProxy.start(ep.port);
  try {
    const burst = await preloaded(ep, scale.count, 404);
    const worker = startWorker(ep, { VISIBILITY_TIMEOUT_SECONDS: '5', POLLERS: '2', BATCH_SIZE: '10', LOG_LEVEL: 'silent' }, `http://127.0.0.1:${proxy.port}`);
    await worker.ready;
    await waitFor(() => ledger(ep).size > 0, 30_000, 'first writes');
    await proxy.down();
    await sleep(scale.outageMs);
    await proxy.up();
    await drained(ep, 120_000);
    await stopAll([worker]);
    return await account(ep, `4. SQS endpoint down ${Math.round(scale.outageMs / 1000)} s`, burst, {
      rewritesAllowed: true,
      notes: 'pollers backed off and resumed, no restart; deletes cut by the outage are redelivered',
    });
  } finally {
    await proxy.down();
    await ep.stop();
  }
}

export async function oneOfThreeKilled(scale: Scale): Promise<ScenarioResult> {
  const ep = await endpoint({ visibilityTimeoutSeconds: 5 });
  try {
    const burst = await preloaded(ep, scale.count, 505);
    const env = { VISIBILITY_TIMEOUT_SECONDS: '5', POLLERS: '2', BATCH_SIZE: '20' };
    const workers = [startWorker(ep, env), startWorker(ep, env), startWorker(ep, env)];
    await Promise.all(workers.map((w) => w.ready));
    await waitFor(() => ledger(ep).size >= scale.count / 5, 60_000, 'a fifth of the burst');
    workers[0].child.kill('SIGKILL');
    await drained(ep, 120_000);
    await stopAll(workers.slice(1));
    return await account(ep, '5. 3 processes, one SIGKILLed', burst, { rewritesAllowed: true, notes: 'its unacknowledged batches redelivered' });
  } finally {
    await ep.stop();
  }
}

export async function sigtermMidBurst(scale: Scale): Promise<ScenarioResult> {
  const ep = await endpoint();
  try {
    const burst = await preloaded(ep, scale.count, 606);
    const graceMs = 10_000;
    const first = startWorker(ep, { SHUTDOWN_GRACE_MS: String(graceMs), POLLERS: '2', BATCH_SIZE: '10' });
    await first.ready;
    await waitFor(() => ledger(ep).size >= scale.count / 5, 60_000, 'a fifth of the burst');
    const signalled = Date.now();
    first.child.kill('SIGTERM');
    const { code } = await first.exit;
    const tookMs = Date.now() - signalled;
    const left = await queueDepth(ep.client, ep.queueUrl);
    if (code !== 0 || tookMs > graceMs || left.invisible !== 0) {
      throw new Error(`SIGTERM: exit ${code} after ${tookMs} ms with ${left.invisible} messages left invisible`);
    }
    const second = startWorker(ep, {});
    await drained(ep, 120_000);
    await stopAll([second]);
    return await account(ep, '6. SIGTERM mid-burst', burst, {
      rewritesAllowed: false,
      notes: `exit 0 in ${tookMs} ms, 0 invisible, the rest drained by the next process`,
    });
  } finally {
    await ep.stop();
  }
}

/** Characters fauxqs accepts in a body (SQS allows beyond the BMP too). */
const SQS_TEXT = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD]+$/u;

export async function badInput(scale: Scale): Promise<ScenarioResult> {
  const ep = await endpoint();
  try {
    const bodies = fc
      .sample(
        fc.oneof(
          fc.json(),
          fc.string({ unit: 'grapheme', maxLength: 2_000 }),
          fc.jsonValue().map((v) => `{"type":"referrer","created_at":1764000000000,"__proto__":${JSON.stringify(v)}}`),
          fc.constantFrom('{"type":"type-in","created_at":1764000000000,"ip":"1.2.3.4","__proto__":{"x":1}}', ''),
          fc.nat({ max: 2_000 }).map((n) => JSON.stringify({ type: 'referrer', created_at: 1_764_000_000_000, url: `test.com/${'a'.repeat(240 * 1024 + n)}` })),
        ),
        { numRuns: scale.badInputs * 2, seed: 707 },
      )
      .filter((body) => SQS_TEXT.test(body) && Buffer.byteLength(body) < 256 * 1024)
      .slice(0, scale.badInputs)
      .map((body) => ({ body }));
    const good = makeBurst(scale.badInputs, 0, seededRandom(708));
    const burst = good.flatMap((m, i) => [bodies[i], m]).filter(Boolean);
    await sendBurst(ep.client, ep.queueUrl, burst);
    const worker = startWorker(ep, {});
    await drained(ep, 120_000);
    worker.child.kill('SIGTERM');
    const { code } = await worker.exit;
    if (code !== 0) throw new Error(`the processor exited ${code} on bad input`);
    const dead = await drainQueue(ep.client, ep.dlqUrl);
    const withReason = dead.filter((m) => m.MessageAttributes?.error_code?.StringValue && m.MessageAttributes?.error_message?.StringValue).length;
    const written = ledger(ep);
    const invalid = bodies.filter((m) => !parseVisitBody(m.body, 'm').ok).length;
    // Every valid visit written, and exactly the invalid bodies in the DLQ.
    const lost = good.filter((m) => !written.has(m.visitId!)).length + Math.abs(invalid - dead.length);
    return result(`7. ${bodies.length} property-based bad bodies`, burst.length, written, {
      deadLettered: dead.length,
      lost,
      rewritesAllowed: false,
      notes: `${withReason} of ${dead.length} dead-lettered with error_code and error_message; processor exit 0`,
    });
  } finally {
    await ep.stop();
  }
}

/** The ledger, and the DLQ drained and checked: each invalid message in it exactly once with its expected error_code. */
async function ledgerAndCheckedDlq(ep: Endpoint, invalid: readonly BurstMessage[]): Promise<{ written: Map<string, number>; dead: Message[] }> {
  const written = ledger(ep);
  const dead = await drainQueue(ep.client, ep.dlqUrl);
  const problems = dlqProblems(
    dead,
    invalid.map((m) => ({ body: m.body, code: m.expectedCode! })),
  );
  if (problems.length > 0) throw new Error(`DLQ: ${problems.slice(0, 5).join('; ')}`);
  return { written, dead };
}

/** Problems with the DLQ's content: each expected message exactly once, each with its error_code. */
function dlqProblems(dead: readonly Message[], expected: ReadonlyArray<{ body: string; code: string }>): string[] {
  const key = (body: string, code: string | undefined) => `${code} ${body}`;
  const want = new Map<string, number>();
  for (const { body, code } of expected) want.set(key(body, code), (want.get(key(body, code)) ?? 0) + 1);
  const got = new Map<string, number>();
  for (const m of dead)
    got.set(key(m.Body!, m.MessageAttributes?.error_code?.StringValue), (got.get(key(m.Body!, m.MessageAttributes?.error_code?.StringValue)) ?? 0) + 1);
  const problems: string[] = [];
  for (const [k, n] of want) if (got.get(k) !== n) problems.push(`${k.slice(0, 60)}… expected ${n} time(s) in the DLQ, found ${got.get(k) ?? 0}`);
  for (const [k, n] of got) if (!want.has(k)) problems.push(`${k.slice(0, 60)}… in the DLQ ${n} time(s), not expected (or without its error_code)`);
  return problems;
}

export async function queueVisibilityBelowHeartbeat(scale: Scale): Promise<ScenarioResult> {
  // The queue's own VisibilityTimeout (5 s) is shorter than the heartbeat (10 s) and the writes (8 s).
  const ep = await endpoint({ visibilityTimeoutSeconds: 5 });
  try {
    const burst = await preloaded(ep, Math.min(scale.count, scale.count >= 10_000 ? 2_000 : 300), 808);
    const env = { VISIBILITY_TIMEOUT_SECONDS: '30', CHAOS_WRITE_DELAY_MS: '8000', BATCH_SIZE: '50', POLLERS: '2' };
    // Two workers: a lease that lapsed would hand a message to the other one (a rewrite).
    const workers = [startWorker(ep, env), startWorker(ep, env)];
    await drained(ep, 180_000);
    await stopAll(workers);
    return await account(ep, '8. queue visibility 5 s < heartbeat 10 s, 8 s writes', burst, {
      rewritesAllowed: false,
      notes: 'every receive sets the 30 s lease; 2 workers',
    });
  } finally {
    await ep.stop();
  }
}

export async function oneMebibyteInvalidBody(scale: Scale): Promise<ScenarioResult> {
  const ep = await endpoint();
  try {
    const big = JSON.stringify({ type: 'referrer', created_at: 1_764_000_000_000, url: `test.com/${'a'.repeat(1_048_576 - 300)}` });
    const small = makeBurst(Math.min(scale.count, 200), 0.5, seededRandom(909));
    const burst: BurstMessage[] = [{ body: big, expectedCode: 'body_too_large' }, ...small];
    // The big body first, then small ones: they share receives and DLQ batches.
    for (const chunk of [burst.slice(0, 10), burst.slice(10)]) await sendBurst(ep.client, ep.queueUrl, chunk, 1);
    const worker = startWorker(ep, { POLLERS: '1' });
    const invalid = burst.filter((m) => m.expectedCode);
    await drained(ep, 120_000, async () => (await queueDepth(ep.client, ep.dlqUrl)).visible >= invalid.length);
    await stopAll([worker]);
    const { written, dead } = await ledgerAndCheckedDlq(ep, invalid);
    const lost = small.filter((m) => m.visitId && !written.has(m.visitId)).length;
    return result(`9. 1 MiB invalid body among ${invalid.length - 1} small invalid ones`, burst.length, written, {
      deadLettered: dead.length,
      lost,
      rewritesAllowed: false,
      notes: `each invalid body once in the DLQ with its error_code (1 MiB one: ${Buffer.byteLength(big)} bytes)`,
    });
  } finally {
    await ep.stop();
  }
}

export async function poisonRowWithoutRedrivePolicy(scale: Scale): Promise<ScenarioResult> {
  // No RedrivePolicy: only the processor's own receive count bounds a poison row.
  const ep = await endpoint({}, async (_url, client) => ({
    dlqUrl: (await client.send(new CreateQueueCommand({ QueueName: 'poison-dlq' }))).QueueUrl!,
    queueUrl: (await client.send(new CreateQueueCommand({ QueueName: 'poison', Attributes: { VisibilityTimeout: '30' } }))).QueueUrl!,
  }));
  try {
    const burst = makeBurst(scale.count >= 10_000 ? 1_000 : 100, 0, seededRandom(1010));
    const poison = burst[37];
    await sendBurst(ep.client, ep.queueUrl, burst);
    const receives = 3;
    const maxAttempts = 3;
    const worker = startWorker(ep, {
      CHAOS_POISON_VISIT_ID: poison.visitId!,
      WRITE_MAX_ATTEMPTS: String(maxAttempts),
      ...tuningEnv({ deadLetterAfterReceives: receives, retryBaseMs: 50, retryMaxMs: 200 }),
    });
    await drained(ep, 120_000, async () => (await queueDepth(ep.client, ep.dlqUrl)).visible >= 1);
    await stopAll([worker]);
    const written = ledger(ep);
    const failedWrites = readLines(join(ep.dir, 'ledger.jsonl.failed')).length;
    const dead = await drainQueue(ep.client, ep.dlqUrl);
    const problems = dlqProblems(dead, [{ body: poison.body, code: 'write_failed' }]);
    // Per receive: the whole batch's attempts, one try per split piece holding the row, its own attempts at the last receive.
    const bound = receives * (maxAttempts + Math.ceil(Math.log2(100)) + 1) + maxAttempts;
    if (failedWrites > bound) problems.push(`${failedWrites} writes carried the poison row (bound ${bound}): a hot loop`);
    if (written.has(poison.visitId!)) problems.push('the poison row was written');
    if (problems.length > 0) throw new Error(problems.join('; '));
    const reason = dead[0]?.MessageAttributes?.error_message?.StringValue ?? '';
    const lost = burst.filter((m) => m !== poison && !written.has(m.visitId!)).length;
    return result(`10. one poison row among ${burst.length}, no redrive policy`, burst.length, written, {
      deadLettered: dead.length,
      lost,
      rewritesAllowed: false,
      notes: `${burst.length - 1} written; poison in the DLQ (write_failed: "${reason.slice(0, 60)}") after ${receives} receives, ${failedWrites} refused writes`,
    });
  } finally {
    await ep.stop();
  }
}

export async function dlqDeletedThenRecreated(scale: Scale): Promise<ScenarioResult> {
  const ep = await endpoint();
  try {
    const outageMs = scale.dlqOutageMs ?? 5_000;
    const worker = startWorker(ep, { POLLERS: '2', ...tuningEnv({ deadLetterRetrySeconds: outageMs >= 60_000 ? 30 : 1 }) });
    await worker.ready;
    await sleep(1_000);
    const dlqName = ep.dlqUrl.split('/').at(-1)!;
    await ep.client.send(new DeleteQueueCommand({ QueueUrl: ep.dlqUrl }));
    const burst = makeBurst(Math.min(scale.count, 1_000), 0.2, seededRandom(1111));
    await sendBurst(ep.client, ep.queueUrl, burst);
    await sleep(outageMs);
    await ep.client.send(new CreateQueueCommand({ QueueName: dlqName, Attributes: { MessageRetentionPeriod: '1209600' } }));
    const invalid = burst.filter((m) => m.expectedCode);
    await drained(ep, outageMs + 600_000, async () => (await queueDepth(ep.client, ep.dlqUrl)).visible >= invalid.length);
    await stopAll([worker]);
    const { written, dead } = await ledgerAndCheckedDlq(ep, invalid);
    return result(`11. DLQ deleted for ${Math.round(outageMs / 1000)} s, then recreated`, burst.length, written, {
      deadLettered: dead.length,
      lost: burst.filter((m) => m.visitId && !written.has(m.visitId)).length,
      rewritesAllowed: false,
      notes: `${invalid.length} invalid: each once in the recreated DLQ with its reason`,
    });
  } finally {
    await ep.stop();
  }
}

function readLines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

export const SCENARIOS = [
  storageFailsAtRandom,
  outageLongerThanVisibility,
  storageRejectsOneType,
  endpointDown,
  oneOfThreeKilled,
  sigtermMidBurst,
  badInput,
  queueVisibilityBelowHeartbeat,
  oneMebibyteInvalidBody,
  poisonRowWithoutRedrivePolicy,
  dlqDeletedThenRecreated,
  ...LIVENESS_SCENARIOS,
  ...ANSWER_SCENARIOS,
];

export function failed(result: ScenarioResult): boolean {
  return result.lost !== 0 || (!result.rewritesAllowed && result.rewrites !== 0) || result.failure !== undefined;
}
