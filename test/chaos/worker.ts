/**
 * A processor process for the fault suite: the real processor (startProcessor) with a storage
 * port that fails as the scenario says and appends every row it writes to a ledger file
 * (synchronously, so a SIGKILL cannot lose a write that happened). SIGTERM drains, as npm start does.
 *
 * Environment: AWS_ENDPOINT_URL, TRAFFIC_QUEUE_URL, processor variables, and
 *   CHAOS_TUNING   JSON of values in place of the processor's tuning constants (loadConfig's overrides)
 *   CHAOS_LEDGER   file to append {"ids":[...]} lines to
 *   CHAOS_FAIL_RATE    share of write calls that fail (0..1)
 *   CHAOS_FAIL_TYPE    a visit type whose writes always fail
 *   CHAOS_OUTAGE_UNTIL epoch ms before which every write fails
 *   CHAOS_WRITE_DELAY_MS   how long each write takes (honours the write deadline)
 *   CHAOS_POISON_VISIT_ID  a visit whose row storage always refuses, with every write that carries it;
 *                          each refused write is appended to CHAOS_LEDGER.failed
 *   CHAOS_HANG_UNTIL   epoch ms before which every write hangs and ignores its abort signal; a hung
 *                      call fails when the hang ends, as a stuck connection does at last
 *   CHAOS_HANG_TYPE    with CHAOS_HANG_UNTIL, only writes of that visit type hang
 *   CHAOS_DOWN_TYPE, CHAOS_DOWN_UNTIL  writes of that visit type hang (signal honoured) until then
 *   CHAOS_CRASH_POLLER a poller crashed once, at its first receive; prints {"crashed":id} on stdout
 */
import { createLogger } from '../../src/platform/logger.ts';
import { appendFileSync } from 'node:fs';
import type { Visit } from '../../src/contract/visit.ts';
import type { VisitTypeDefinition } from '../../src/contract/visit-types.ts';
import { loadConfig } from '../../src/processor/config/config.ts';
import { startProcessor } from '../../src/processor/processor.ts';
import { sleep } from '../../src/processor/deadline.ts';
import { handleSignals } from '../../src/processor/runtime/signals.ts';
import type { StoragePort } from '../../machines/ports.ts';
import type { Report } from '../../machines/types.ts';

const env = process.env;
const ledger = env.CHAOS_LEDGER!;
const failRate = Number(env.CHAOS_FAIL_RATE ?? 0);
const outageUntil = Number(env.CHAOS_OUTAGE_UNTIL ?? 0);
const writeDelayMs = Number(env.CHAOS_WRITE_DELAY_MS ?? 0);
const poison = env.CHAOS_POISON_VISIT_ID;

const hangUntil = Number(env.CHAOS_HANG_UNTIL ?? 0);
const downUntil = Number(env.CHAOS_DOWN_UNTIL ?? 0);

const storage: StoragePort = {
  backend: 'chaos',
  async writeBatch(type: VisitTypeDefinition, visits: readonly Visit[], signal: AbortSignal) {
    signal.throwIfAborted();
    // A driver that does not answer and never looks at the signal, until its connection drops.
    if (Date.now() < hangUntil && (!env.CHAOS_HANG_TYPE || type.name === env.CHAOS_HANG_TYPE)) {
      return new Promise<void>((_, reject) => setTimeout(() => reject(new Error('connection reset after the hang')), hangUntil - Date.now()));
    }
    if (type.name === env.CHAOS_DOWN_TYPE && Date.now() < downUntil) await sleep(downUntil - Date.now() + 60_000, signal);
    if (writeDelayMs > 0) await sleep(writeDelayMs, signal);
    if (poison && visits.some((v) => v.visitId === poison)) {
      appendFileSync(`${ledger}.failed`, `${JSON.stringify({ pid: process.pid, ids: visits.map((v) => v.visitId) })}\n`);
      throw new Error('Data too long for column (row refused)');
    }
    if (Date.now() < outageUntil) throw new Error('storage outage');
    if (type.name === env.CHAOS_FAIL_TYPE) throw new Error(`storage rejects ${type.name}`);
    if (Math.random() < failRate) throw new Error('random storage failure');
    appendFileSync(ledger, `${JSON.stringify({ pid: process.pid, type: type.name, at: Date.now(), ids: visits.map((v) => v.visitId) })}\n`);
  },
};

/** Throws inside the poller's own transition (its report action), which crashes that actor once. */
function crashOnce(poller: string | undefined) {
  let crashed = false;
  return (report: Report) => {
    if (!poller || crashed || report.kind !== 'received' || report.poller !== poller) return;
    crashed = true;
    process.stdout.write(`${JSON.stringify({ crashed: poller })}\n`);
    throw new Error(`${poller} crashed on purpose`);
  };
}

/** The most abandoned writes pending at once, per visit type (printed with the final stats). */
const mostAbandonedPending: Record<string, number> = {};
function trackAbandoned() {
  const pending: Record<string, number> = {};
  return (report: Report) => {
    if (report.kind !== 'write-abandoned' && report.kind !== 'abandoned-write-settled') return;
    pending[report.type] = (pending[report.type] ?? 0) + (report.kind === 'write-abandoned' ? 1 : -1);
    mostAbandonedPending[report.type] = Math.max(mostAbandonedPending[report.type] ?? 0, pending[report.type]!);
  };
}

const logger = createLogger({ name: 'traffic-processor', level: env.LOG_LEVEL ?? 'warn', destination: 'stderr' });
const config = loadConfig(env, JSON.parse(env.CHAOS_TUNING ?? '{}'));
const processor = startProcessor({
  config,
  endpoint: env.AWS_ENDPOINT_URL,
  queueUrl: env.TRAFFIC_QUEUE_URL!,
  dlqUrl: config.dlqUrl,
  storage,
  logger,
  onReport: ((crash, track) => (report: Report) => {
    track(report);
    crash(report);
  })(crashOnce(env.CHAOS_CRASH_POLLER), trackAbandoned()),
});
handleSignals({ onFirst: () => processor.stop(), onSecond: () => process.exit(130) });
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
const output = await processor.done;
process.stdout.write(
  `${JSON.stringify({ done: output.status, stats: processor.stats, mostAbandonedPending, maxRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`,
);
setTimeout(() => process.exit(output.status === 'stopped' ? 0 : 1), 20).unref();
