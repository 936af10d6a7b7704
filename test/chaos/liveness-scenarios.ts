/**
 * Fault scenarios about liveness, in the same ledger and table as the others: faults that hang
 * (no answer, no close) rather than fail fast, a crash and a shutdown in the same second, and
 * one visit type's storage down while the other type's throughput is measured.
 */
import type { BurstMessage } from '../../scripts/support/burst.ts';
import { waitFor } from '../support/sqs.ts';
import { OutageProxy } from './proxy.ts';
import {
  account,
  drained,
  endpoint,
  ledger,
  ledgerEntries,
  preloaded,
  startWorker,
  stopAll,
  tuningEnv,
  type Endpoint,
  type Scale,
  type ScenarioResult,
} from './scenarios.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const full = (scale: Scale) => scale.count >= 10_000;

/** Tight deadlines for the fault suite; the behaviour is the same at the defaults. */
const DEADLINES = tuningEnv({ sqsCallTimeoutMs: 2_000, sqsConnectTimeoutMs: 1_000, receiveDeadlineMarginMs: 2_000 });

export async function networkFreeze(scale: Scale): Promise<ScenarioResult> {
  const ep = await endpoint({ visibilityTimeoutSeconds: 5 });
  const proxy = await OutageProxy.start(ep.port);
  try {
    const burst = await preloaded(ep, scale.count, 1201);
    const freezeMs = full(scale) ? 15_000 : scale.outageMs;
    const env = { ...DEADLINES, VISIBILITY_TIMEOUT_SECONDS: '5', POLLERS: '2', BATCH_SIZE: '10' };
    const worker = startWorker(ep, env, `http://127.0.0.1:${proxy.port}`);
    await worker.ready;
    await waitFor(() => ledger(ep).size > 0, 30_000, 'first writes');
    proxy.freeze();
    await sleep(freezeMs);
    proxy.thaw();
    const thawed = Date.now();
    await drained(ep, 120_000);
    const recoveredMs = Date.now() - thawed;
    await stopAll([worker]);
    return await account(ep, `12. network frozen ${Math.round(freezeMs / 1000)} s, connections half-open`, burst, {
      rewritesAllowed: true,
      notes: `drained ${Math.round(recoveredMs / 1000)} s after the thaw; deletes cut by the freeze are redelivered`,
    });
  } finally {
    await proxy.down();
    await ep.stop();
  }
}

export async function endpointSilentAtStart(scale: Scale): Promise<ScenarioResult> {
  const ep = await endpoint();
  const proxy = await OutageProxy.start(ep.port);
  try {
    const burst = await preloaded(ep, Math.min(scale.count, 2_000), 1202);
    const silentMs = full(scale) ? 15_000 : scale.outageMs;
    proxy.freeze();
    const worker = startWorker(ep, DEADLINES, `http://127.0.0.1:${proxy.port}`);
    await worker.ready;
    await sleep(silentMs);
    const writtenWhileSilent = ledger(ep).size;
    proxy.thaw();
    await drained(ep, 120_000);
    await stopAll([worker]);
    const result = await account(ep, `13. endpoint silent ${Math.round(silentMs / 1000)} s at start, then answers`, burst, {
      rewritesAllowed: false,
      notes: 'start-up retried with backoff, then drained',
    });
    return writtenWhileSilent === 0 ? result : { ...result, failure: `${writtenWhileSilent} written while the endpoint was silent` };
  } finally {
    await proxy.down();
    await ep.stop();
  }
}

export async function storageHangsIgnoringSignal(scale: Scale): Promise<ScenarioResult> {
  const ep = await endpoint({ visibilityTimeoutSeconds: 5 });
  try {
    const burst = await preloaded(ep, Math.min(scale.count, 2_000), 1203);
    const hangMs = full(scale) ? 30_000 : Math.max(4_000, scale.outageMs);
    const env = {
      CHAOS_HANG_UNTIL: String(Date.now() + hangMs),
      WRITE_TIMEOUT_MS: '1000',
      VISIBILITY_TIMEOUT_SECONDS: '5',
      WRITE_MAX_ATTEMPTS: '100',
      ...tuningEnv({ retryBaseMs: 200, retryMaxMs: 1_000 }),
    };
    const worker = startWorker(ep, env);
    await drained(ep, hangMs + 90_000);
    await stopAll([worker]);
    return await account(ep, `14. storage hangs ${Math.round(hangMs / 1000)} s, ignoring its abort signal`, burst, {
      rewritesAllowed: false,
      notes: 'writes abandoned at WRITE_TIMEOUT_MS and retried; leases kept',
    });
  } finally {
    await ep.stop();
  }
}

export async function shutdownDuringPendingRestart(scale: Scale): Promise<ScenarioResult> {
  const ep = await endpoint({ visibilityTimeoutSeconds: 5 });
  try {
    const burst = await preloaded(ep, Math.min(scale.count, 2_000), 1204);
    const first = startWorker(ep, { CHAOS_CRASH_POLLER: 'poller-1', POLLERS: '2', BATCH_SIZE: '10', VISIBILITY_TIMEOUT_SECONDS: '5' });
    await first.ready;
    // The next line is the crash; its restart waits 0.5 to 1 s. SIGTERM lands in that window.
    const line = await first.lines.next();
    if (line.done || !String(line.value).includes('crashed')) throw new Error(`expected a crash line, got ${String(line.value)}`);
    const signalled = Date.now();
    first.child.kill('SIGTERM');
    const { code } = await first.exit;
    const tookMs = Date.now() - signalled;
    // What the crashed poller held (its receive, in hand) comes back after its 5 s lease: a second process drains it with the rest.
    const second = startWorker(ep, {});
    await drained(ep, 120_000);
    await stopAll([second]);
    const result = await account(ep, '15. SIGTERM while a crashed poller waits for its restart', burst, {
      rewritesAllowed: false,
      notes: `exit ${code} ${tookMs} ms after SIGTERM; the rest drained by the next process`,
    });
    return code === 0 ? result : { ...result, failure: `exit ${code} (${String(tookMs)} ms)` };
  } finally {
    await ep.stop();
  }
}

/** Type-in visits written per second between `from` and `to` (epoch ms), from the ledger. */
function typeInRate(ep: Endpoint, from: number, to: number): number {
  let count = 0;
  for (const entry of ledgerEntries(ep)) {
    if (entry.type === 'type-in' && entry.at !== undefined && entry.at >= from && entry.at < to) count += entry.ids.length;
  }
  return count / ((to - from) / 1000);
}

export async function oneTypeDown(scale: Scale): Promise<ScenarioResult> {
  const downMs = full(scale) ? 60_000 : 8_000;
  const warmMs = 2_000;
  // Storage of bounded throughput (one write of 10 at a time, 100 ms each: 100 visits/s per type),
  // so the queue does not run dry during the window measured.
  const count = full(scale) ? 20_000 : 1_500;
  // A pool small enough for the failing type to fill it, as a long outage does at any size.
  const env = {
    CHAOS_WRITE_DELAY_MS: '100',
    BATCH_SIZE: '10',
    WRITE_CONCURRENCY: '1',
    POLLERS: '4',
    MAX_IN_FLIGHT: '400',
    VISIBILITY_TIMEOUT_SECONDS: '30',
    // The quick run is shorter than the default deferral (30 s) of a failing type.
    ...(full(scale) ? {} : tuningEnv({ deferSeconds: 3 })),
  };
  const measure = async (down: boolean): Promise<{ ep: Endpoint; rate: number; burst: BurstMessage[] }> => {
    const ep = await endpoint();
    const burst = await preloaded(ep, count, 1205);
    const startedAt = Date.now();
    const worker = startWorker(ep, down ? { ...env, CHAOS_DOWN_TYPE: 'referrer', CHAOS_DOWN_UNTIL: String(startedAt + downMs) } : env);
    await sleep(downMs);
    const rate = typeInRate(ep, startedAt + warmMs, startedAt + downMs);
    if (!down) {
      await stopAll([worker]);
      return { ep, rate, burst };
    }
    await drained(ep, 300_000);
    await stopAll([worker]);
    return { ep, rate, burst };
  };
  const healthy = await measure(false);
  await healthy.ep.stop();
  const faulty = await measure(true);
  try {
    const ratio = healthy.rate > 0 ? faulty.rate / healthy.rate : 0;
    const result = await account(faulty.ep, `16. referrer storage down ${Math.round(downMs / 1000)} s`, faulty.burst, {
      rewritesAllowed: false,
      notes: `type-in ${faulty.rate.toFixed(0)}/s during the outage vs ${healthy.rate.toFixed(0)}/s with both healthy (${Math.round(ratio * 100)} %)`,
    });
    const problems = [
      ...(ratio < 0.8 ? [`type-in throughput ${Math.round(ratio * 100)} % of healthy, below 80 %`] : []),
      ...(result.deadLettered > 0 ? [`${result.deadLettered} valid visits dead-lettered by the outage`] : []),
    ];
    return problems.length > 0 ? { ...result, failure: problems.join('; ') } : result;
  } finally {
    await faulty.ep.stop();
  }
}

/** The worker's last line: its final stats and the most abandoned writes it had pending at once. */
async function finalLine(lines: AsyncIterator<string>): Promise<{ mostAbandonedPending?: Record<string, number> }> {
  let last = {};
  for (let line = await lines.next(); !line.done; line = await lines.next()) {
    const parsed = JSON.parse(String(line.value)) as { done?: string };
    if (parsed.done !== undefined) last = parsed;
  }
  return last;
}

/** Abandoned writes a table may have pending: 2 x WRITE_CONCURRENCY (src/processor/storage/calls.ts). */
const HANG_WRITE_CONCURRENCY = 4;

export async function oneTypeHangs(scale: Scale): Promise<ScenarioResult> {
  const ep = await endpoint({ visibilityTimeoutSeconds: 5 });
  try {
    const burst = await preloaded(ep, Math.min(scale.count, 2_000), 1206);
    const hangMs = full(scale) ? 150_000 : Math.max(8_000, scale.outageMs);
    const hangUntil = Date.now() + hangMs;
    const env = {
      CHAOS_HANG_TYPE: 'referrer',
      CHAOS_HANG_UNTIL: String(hangUntil),
      WRITE_CONCURRENCY: String(HANG_WRITE_CONCURRENCY),
      WRITE_TIMEOUT_MS: '1000',
      VISIBILITY_TIMEOUT_SECONDS: '5',
      WRITE_MAX_ATTEMPTS: '100',
      ...tuningEnv({ retryBaseMs: 200, retryMaxMs: 1_000, deferSeconds: 2 }),
    };
    const worker = startWorker(ep, env);
    await worker.ready;
    const typeIn = burst.filter((m) => m.table === 'traffic_type_in').map((m) => m.visitId!);
    await sleep(hangUntil - Date.now());
    const written = ledger(ep);
    const typeInDuringHang = typeIn.filter((id) => written.has(id)).length;
    await drained(ep, 120_000);
    await stopAll([worker]);
    const most = (await finalLine(worker.lines)).mostAbandonedPending?.referrer ?? 0;
    const cap = 2 * HANG_WRITE_CONCURRENCY;
    const result = await account(ep, `17. referrer storage hangs ${Math.round(hangMs / 1000)} s, ignoring its signal`, burst, {
      rewritesAllowed: false,
      notes: `abandoned referrer writes pending at most ${most} (cap ${cap}); type-in written during the hang ${typeInDuringHang} of ${typeIn.length}`,
    });
    const problems = [
      ...(most > cap ? [`${most} abandoned writes pending, above the cap of ${cap}`] : []),
      ...(most === 0 ? ['no write was abandoned: the hang did not happen'] : []),
      ...(typeInDuringHang < typeIn.length ? [`only ${typeInDuringHang} of ${typeIn.length} type-in visits written during the hang`] : []),
      ...(result.deadLettered > 0 ? [`${result.deadLettered} valid visits dead-lettered by the hang`] : []),
    ];
    return problems.length > 0 ? { ...result, failure: problems.join('; ') } : result;
  } finally {
    await ep.stop();
  }
}

export const LIVENESS_SCENARIOS = [networkFreeze, endpointSilentAtStart, storageHangsIgnoringSignal, shutdownDuringPendingRestart, oneTypeDown, oneTypeHangs];
