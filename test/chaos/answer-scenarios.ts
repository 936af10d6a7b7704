/**
 * Fault scenarios about answers the processor cannot trust, through a fault proxy between it and
 * the endpoint (FaultProxy): answers far too large or without end, batch answers that name no
 * entries, DLQ sends whose answer is lost, a receive listing each message twice, deletes that
 * hang. Each checks the ledger (nothing lost), that the processor never crashed, and the DLQ:
 * every invalid message in it, never twice unless the processor counted that copy as a possible
 * duplicate (an answer was lost after SQS stored it: a standard queue cannot deduplicate).
 */
import type { Message } from '@aws-sdk/client-sqs';
import { type BurstMessage, makeBurst, sendBurst } from '../../scripts/support/burst.ts';
import { seededRandom } from '../../scripts/support/random.ts';
import { drainQueue } from '../support/sqs.ts';
import { FaultProxy, type FaultPlan } from './proxy.ts';
import { drained, type Endpoint, endpoint, ledger, result, type Scale, type ScenarioResult, startWorker, tuningEnv, type Worker } from './scenarios.ts';

/** Tight deadlines and leases, so faults cost seconds; the behaviour is the same at the defaults. */
const ENV = {
  VISIBILITY_TIMEOUT_SECONDS: '5',
  POLLERS: '2',
  BATCH_SIZE: '10',
  ...tuningEnv({ sqsCallTimeoutMs: 2_000, sqsConnectTimeoutMs: 1_000, receiveDeadlineMarginMs: 2_000, heartbeatSeconds: 1, deadLetterRetrySeconds: 1 }),
};
/** The processor's resident memory must stay below this through a huge answer (a cap of about 21 MiB per answer). */
const MAX_RSS_BYTES = 400 * 1_048_576;

const forward = { kind: 'forward' } as const;
const size = (scale: Scale) => (scale.count >= 10_000 ? 3_000 : 600);

interface WorkerEnd {
  readonly code: number | null;
  readonly stats: Record<string, number>;
  readonly maxRssBytes: number;
}

/** SIGTERM, then the processor's last line (its stats) and exit code. */
async function stopWithStats(worker: Worker): Promise<WorkerEnd> {
  worker.child.kill('SIGTERM');
  let last: { stats?: Record<string, number>; maxRssBytes?: number } = {};
  for (;;) {
    const { value, done } = await worker.lines.next();
    if (done) break;
    try {
      const parsed = JSON.parse(value) as { done?: string; stats?: Record<string, number>; maxRssBytes?: number };
      if (parsed.done) last = parsed;
    } catch {
      // Not the processor's own line.
    }
  }
  const { code } = await worker.exit;
  return { code, stats: last.stats ?? {}, maxRssBytes: last.maxRssBytes ?? 0 };
}

/** How each invalid message fared in the DLQ: missing, or there more often than the processor said it might be. */
function dlqCounts(dead: readonly Message[], invalid: readonly BurstMessage[]): { missing: number; duplicates: number } {
  const key = (body: string | undefined, code: string | undefined) => `${code} ${body}`;
  const want = new Map<string, number>();
  for (const m of invalid) want.set(key(m.body, m.expectedCode), (want.get(key(m.body, m.expectedCode)) ?? 0) + 1);
  const got = new Map<string, number>();
  for (const m of dead) {
    const k = key(m.Body, m.MessageAttributes?.error_code?.StringValue);
    got.set(k, (got.get(k) ?? 0) + 1);
  }
  let missing = 0;
  let duplicates = 0;
  for (const [k, n] of want) missing += Math.max(0, n - (got.get(k) ?? 0));
  for (const [k, n] of got) duplicates += Math.max(0, n - (want.get(k) ?? 0));
  return { missing, duplicates };
}

/**
 * One scenario: a burst (with `invalidShare` invalid bodies) through the fault proxy, drained;
 * the processor must still be running, exit 0 on SIGTERM, lose nothing and duplicate no DLQ
 * copy it did not count.
 */
async function throughFaults(
  scale: Scale,
  name: string,
  options: { seed: number; invalidShare: number; plan: FaultPlan; rewritesAllowed: boolean; check?: (end: WorkerEnd, proxy: FaultProxy) => string | undefined },
): Promise<ScenarioResult> {
  const ep: Endpoint = await endpoint({ visibilityTimeoutSeconds: 5 });
  const proxy = await FaultProxy.start(ep.port, options.plan);
  try {
    const burst = makeBurst(size(scale), options.invalidShare, seededRandom(options.seed));
    await sendBurst(ep.client, ep.queueUrl, burst);
    const worker = startWorker(ep, ENV, `http://127.0.0.1:${proxy.port}`);
    await worker.ready;
    const invalid = burst.filter((m) => m.expectedCode);
    await drained(ep, 180_000);
    const problems: string[] = [];
    if (worker.child.exitCode !== null || worker.child.signalCode !== null)
      problems.push(`the processor exited (${worker.child.exitCode ?? worker.child.signalCode})`);
    const end = await stopWithStats(worker);
    if (end.code !== 0) problems.push(`exit ${end.code} on SIGTERM`);
    const written = ledger(ep);
    const dead = await drainQueue(ep.client, ep.dlqUrl);
    const { missing, duplicates } = dlqCounts(dead, invalid);
    const counted = end.stats.dlqPossibleDuplicates ?? 0;
    if (duplicates > counted) problems.push(`${duplicates} duplicate DLQ copies, ${counted} counted as possible duplicates`);
    const extra = options.check?.(end, proxy);
    if (extra) problems.push(extra);
    const lost = burst.filter((m) => m.visitId && !written.has(m.visitId)).length + missing;
    const faults = Object.entries(proxy.applied)
      .map(([what, n]) => `${n} ${what.replace('AmazonSQS.', '')}`)
      .join(', ');
    return {
      ...result(name, burst.length, written, {
        deadLettered: dead.length,
        lost,
        rewritesAllowed: options.rewritesAllowed,
        notes: `${faults || 'no fault applied'}; ${duplicates} DLQ duplicates (${counted} counted); peak RSS ${Math.round(end.maxRssBytes / 1_048_576)} MiB`,
      }),
      ...(problems.length > 0 ? { failure: problems.join('; ') } : {}),
    };
  } finally {
    await proxy.stop();
    await ep.stop();
  }
}

export async function hugeAnswers(scale: Scale): Promise<ScenarioResult> {
  return throughFaults(scale, '18. receive answers of 50 MB and without end', {
    seed: 1401,
    invalidShare: 0.1,
    // The receive is carried out (its messages leased and back after 5 s); its answer is replaced.
    plan: (target, n) => (target === 'AmazonSQS.ReceiveMessage' && [2, 4, 6].includes(n) ? { kind: 'huge', bytes: n === 4 ? Infinity : 50_000_000 } : forward),
    rewritesAllowed: false,
    check: (end, proxy) => {
      if ((proxy.applied['AmazonSQS.ReceiveMessage:huge'] ?? 0) < 3) return 'fewer than 3 huge answers were sent';
      if (end.maxRssBytes > MAX_RSS_BYTES) return `peak RSS ${Math.round(end.maxRssBytes / 1_048_576)} MiB`;
      return undefined;
    },
  });
}

const BATCH_CALLS = ['AmazonSQS.DeleteMessageBatch', 'AmazonSQS.ChangeMessageVisibilityBatch', 'AmazonSQS.SendMessageBatch'];

export async function answersNamingNoEntries(scale: Scale): Promise<ScenarioResult> {
  return throughFaults(scale, '19. batch answers naming no entries', {
    seed: 1501,
    invalidShare: 0.2,
    // Carried out, but the answer's Successful list emptied: nothing said done, nothing said failed.
    plan: (target, n) => (BATCH_CALLS.includes(target) && n <= 10 ? { kind: 'rewrite', change: (answer) => ({ ...answer, Successful: [] }) } : forward),
    // A lease extension the answer did not confirm is taken for lost: its visit waits for the lease and is written then.
    rewritesAllowed: false,
    check: (end) => ((end.stats.unansweredEntries ?? 0) === 0 ? 'no unanswered entry was counted' : undefined),
  });
}

export async function lostDlqSendAnswers(scale: Scale): Promise<ScenarioResult> {
  return throughFaults(scale, '20. DLQ send answers lost after the send', {
    seed: 1601,
    invalidShare: 0.3,
    plan: (target, n) => (target === 'AmazonSQS.SendMessageBatch' && n <= 6 ? { kind: 'lose' } : forward),
    rewritesAllowed: false,
  });
}

export async function duplicateInOneReceive(scale: Scale): Promise<ScenarioResult> {
  return throughFaults(scale, '21. each message twice in one receive', {
    seed: 1701,
    invalidShare: 0.2,
    plan: (target) =>
      target === 'AmazonSQS.ReceiveMessage'
        ? {
            kind: 'rewrite',
            change: (answer) => ({ ...answer, Messages: [...((answer.Messages as unknown[]) ?? []), ...((answer.Messages as unknown[]) ?? [])] }),
          }
        : forward,
    rewritesAllowed: false,
    check: (end) => ((end.stats.dlqPossibleDuplicates ?? 0) > 0 ? 'a DLQ copy was sent twice' : undefined),
  });
}

export async function hangingDeletes(scale: Scale): Promise<ScenarioResult> {
  return throughFaults(scale, '22. deletes that hang (never answered)', {
    seed: 1801,
    invalidShare: 0.1,
    plan: (target, n) => (target === 'AmazonSQS.DeleteMessageBatch' && n <= 8 ? { kind: 'hang' } : forward),
    // A delete that never got through: its visit comes back after its lease and is upserted again.
    rewritesAllowed: true,
    check: (end) => ((end.stats.sqsCallFailures ?? 0) === 0 ? 'no failed SQS call was logged' : undefined),
  });
}

export const ANSWER_SCENARIOS = [hugeAnswers, answersNamingNoEntries, lostDlqSendAnswers, duplicateInOneReceive, hangingDeletes];
